"""Resumption tokens survive a restart of the provider and are answered by a second one
(a load balancer's other server): they are stateless. The provider reads an S3 store
(moto's server over HTTP) as well: it builds the index there, and sees a later update."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

from lxml import etree
from serve_support import Harvested, provider
from sickle import Sickle

from harvester.oaiserve.build import update_index
from pipelines.storage.s3 import S3Options, S3Store

OAI = "{http://www.openarchives.org/OAI/2.0/}"


def page(url: str, query: str) -> tuple[list[str], etree._Element | None]:
    with urllib.request.urlopen(f"{url}?{query}", timeout=30) as response:
        root = etree.fromstring(response.read())
    assert root.find(f"{OAI}error") is None, etree.tostring(root)[:500]
    ids = [e.text for e in root.iter(f"{OAI}identifier") if e.getparent().tag == f"{OAI}header"]
    return ids, root.find(f".//{OAI}resumptionToken")


def test_a_token_is_still_good_after_a_restart_and_on_a_second_server(harvested: Harvested
                                                                       ) -> None:
    store = str(harvested.root)
    with provider(store, "HARVESTER_OAI_PAGE_SIZE=9") as first:
        ids, token = page(first.url, "verb=ListRecords&metadataPrefix=oai_dc")
        assert token is not None and token.get("cursor") == "0"
        assert token.get("completeListSize") == str(len(harvested.records))
        everything = [h.identifier for h in Sickle(first.url).ListIdentifiers(
            metadataPrefix="oai_dc")]
    assert first.proc.returncode is not None  # stopped
    seen = list(ids)
    # a new process, then two at once taking turns (a load balancer)
    with provider(store, "HARVESTER_OAI_PAGE_SIZE=9") as second, \
            provider(store, "HARVESTER_OAI_PAGE_SIZE=9") as third:
        servers = [second.url, third.url]
        turn = 0
        while token is not None and token.text:
            ids, token = page(servers[turn % 2], "verb=ListRecords&resumptionToken="
                              + urllib.parse.quote(token.text))
            assert token is not None  # the last page has an empty one
            assert token.get("cursor") == str(len(seen))  # items sent before this page
            assert token.get("completeListSize") == str(len(harvested.records))
            seen.extend(ids)
            turn += 1
    assert turn >= 6
    assert seen == everything and len(set(seen)) == len(harvested.records)


def _copy_to_s3(root: Path, s3: S3Store) -> None:
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_file() and key.split("/", 1)[0] in ("records", "runs"):
            s3.put(key, path.read_bytes())


def test_an_s3_store_is_indexed_and_served(harvested: Harvested, moto_s3) -> None:
    bucket = moto_s3.new_bucket("oai")
    s3 = S3Store(bucket, "harvest", options=S3Options(endpoint_url=moto_s3.endpoint_url))
    _copy_to_s3(harvested.root, s3)  # records and feeds, no index: the provider builds it
    env = {"AWS_ENDPOINT_URL": moto_s3.endpoint_url}
    uri = f"s3://{bucket}/harvest"
    with provider(uri, "HARVESTER_OAI_PAGE_SIZE=20", "HARVESTER_OAI_INDEX_TTL=0",
                  env=env) as p:
        assert any("building it" in line for line in p.log)
        sickle = Sickle(p.url)
        listed = {r.header.identifier: r for r in sickle.ListRecords(metadataPrefix="oai_dc")}
        assert len(listed) == len(harvested.records)
        deleted = sorted(i.rsplit(":", 1)[1] for i, r in listed.items() if r.header.deleted)
        assert deleted == sorted(harvested.withdrawn)
        assert list(s3.list("index/oai/manifests/"))
        assert not any(k.startswith("records/") for k in s3.list("index/"))

        # a later run withdraws one more record: its feed is indexed on S3, the provider
        # (reading the manifest afresh) shows it deleted with its new datestamp
        rid = sorted(set(harvested.records) - set(harvested.withdrawn))[0]
        record = dict(harvested.records[rid], status="withdrawn",
                      withdrawn_at="2030-01-01T00:00:00Z")
        s3.put(f"records/wilson/{rid}.json", json.dumps(record).encode())
        line = {"record_id": rid, "change": "withdrawn", "content_sha256": record["content_sha256"],
                "key": f"records/wilson/{rid}.json", "url": record["url"],
                "title": record["title"], "run_id": "20300101T000000Z-abcdef12",
                "harvested_at": "2030-01-01T00:00:00Z"}
        s3.put("runs/wilson/20300101T000000Z-abcdef12.changes.jsonl",
               (json.dumps(line) + "\n").encode())
        result = update_index(s3, "wilson")
        assert result is not None and result.entries_changed == 1
        later = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2029-12-31"}))
        assert [(h.identifier.rsplit(":", 1)[1], h.deleted, h.datestamp) for h in later] == \
            [(rid, True, "2030-01-01T00:00:00Z")]
