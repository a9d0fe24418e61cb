"""Real crawls (subprocess, loopback server) with WarcCapture: replay, revisits, rolling."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from capture_support import (
    CHUNKED_PAGE,
    LISTING,
    PAGES,
    PDF,
    SITE,
    crawl,
    gzipped,
    serve,
    warcio_check,
)
from warcio.archiveiterator import ArchiveIterator

from pipelines.storage.local import LocalStore
from pipelines.storage.s3 import S3Options, S3Store

CAPTURED = {**{p: b for p, b in PAGES.items()}, CHUNKED_PAGE[0]: CHUNKED_PAGE[1], PDF[0]: PDF[1]}


def records_of(data: bytes) -> list[dict[str, object]]:
    """Every record of a WARC file: type, target, headers, raw and decoded payload."""
    out = []
    for rec in ArchiveIterator(io.BytesIO(data)):
        entry: dict[str, object] = {
            "type": rec.rec_type, "uri": rec.rec_headers.get_header("WARC-Target-URI"),
            "warc": dict(rec.rec_headers.headers),
            "http": dict(rec.http_headers.headers) if rec.http_headers else {},
            "status": rec.http_headers.get_statuscode() if rec.http_headers else None,
        }
        if rec.rec_type == "response":
            raw = rec.raw_stream.read()
            entry["raw"] = raw
        out.append(entry)
    return out


def replayed(data: bytes) -> dict[str, bytes]:
    """Target URI -> the page as a browser would get it (content-encoding decoded)."""
    pages = {}
    for rec in ArchiveIterator(io.BytesIO(data)):
        if rec.rec_type == "response":
            pages[rec.rec_headers.get_header("WARC-Target-URI")] = rec.content_stream().read()
    return pages


def path_of(uri: object) -> str:
    return "/" + str(uri).split("/", 3)[3]


@pytest.fixture
def site_url():
    with serve() as url:
        yield url


def test_crawl_writes_valid_replayable_warc_with_request_and_response_per_fetch(site_url, tmp_path):
    store_dir = tmp_path / "store"
    result = crawl(site_url, str(store_dir), tmp_path)
    store = LocalStore(store_dir)
    keys = list(store.list(f"raw/{SITE}/"))
    assert keys == [f"raw/{SITE}/{result.run_id}-00000.warc.gz"]
    path = store_dir / keys[0]
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 9  # warcinfo + 4 x (response + request)

    recs = records_of(path.read_bytes())
    assert recs[0]["type"] == "warcinfo"
    responses = {path_of(r["uri"]): r for r in recs if r["type"] == "response"}
    requests = {path_of(r["uri"]): r for r in recs if r["type"] == "request"}
    assert set(responses) == set(requests) == set(CAPTURED)  # the listing is not captured
    assert LISTING[0] not in responses
    for page, resp in responses.items():
        warc = resp["warc"]
        assert warc["WARC-IP-Address"] == "127.0.0.1"
        assert str(warc["WARC-Payload-Digest"]).startswith("sha256:")
        assert requests[page]["warc"]["WARC-Concurrent-To"] == warc["WARC-Record-ID"]
        assert resp["status"] == "200"
    # the bytes the server sent: gzip kept as on the wire, not Scrapy's decoded body
    for page, body in PAGES.items():
        assert responses[page]["raw"] == gzipped(body)
        assert responses[page]["http"]["Content-Encoding"] == "gzip"
        assert responses[page]["http"]["Content-Length"] == str(len(gzipped(body)))
    # chunked: Twisted de-chunks and drops Transfer-Encoding; the capture is consistent
    chunked = responses[CHUNKED_PAGE[0]]
    assert chunked["raw"] == CHUNKED_PAGE[1]
    assert "Transfer-Encoding" not in chunked["http"]
    assert responses[PDF[0]]["raw"] == PDF[1]
    # the spider still saw decoded bodies
    assert result.stats["test/decoded"] == 5
    assert result.stats["warc/records/response"] == 4
    assert result.stats["warc/records/request"] == 4

    # replay: reading the capture back gives the same pages
    pages = {path_of(uri): body for uri, body in replayed(path.read_bytes()).items()}
    assert pages == CAPTURED


def test_second_crawl_writes_revisits_referring_to_the_first(site_url, tmp_path):
    store_dir = tmp_path / "store"
    first = crawl(site_url, str(store_dir), tmp_path)
    second = crawl(site_url, str(store_dir), tmp_path)
    store = LocalStore(store_dir)
    first_recs = records_of((store_dir / f"raw/{SITE}/{first.run_id}-00000.warc.gz").read_bytes())
    path = store_dir / f"raw/{SITE}/{second.run_id}-00000.warc.gz"
    assert warcio_check(path).returncode == 0
    second_recs = records_of(path.read_bytes())

    originals = {r["uri"]: r["warc"] for r in first_recs if r["type"] == "response"}
    revisits = [r for r in second_recs if r["type"] == "revisit"]
    assert not [r for r in second_recs if r["type"] == "response"]
    assert {r["uri"] for r in revisits} == set(originals)
    for rev in revisits:
        warc, original = rev["warc"], originals[rev["uri"]]
        assert warc["WARC-Profile"] == (
            "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
        assert warc["WARC-Refers-To-Target-URI"] == rev["uri"]
        assert warc["WARC-Refers-To-Date"] == original["WARC-Date"]
        assert warc["WARC-Refers-To"] == original["WARC-Record-ID"]
        assert warc["WARC-Payload-Digest"] == original["WARC-Payload-Digest"]
        assert rev["status"] == "200"  # the HTTP headers are kept, the body is not
    assert second.stats["warc/records/revisit"] == 4
    assert len([r for r in second_recs if r["type"] == "request"]) == 4
    indexes = list(store.list(f"state/{SITE}/payloads/"))
    assert len(indexes) == 1  # one index object for the first run's one WARC file
    index = json.loads(store.get(indexes[0]) or b"")
    assert index["warc"] == f"raw/{SITE}/{first.run_id}-00000.warc.gz"
    assert len(index["payloads"]) == 4


def test_rolling_at_a_small_size_makes_several_valid_files(site_url, tmp_path):
    store_dir = tmp_path / "store"
    result = crawl(site_url, str(store_dir), tmp_path, max_bytes=1500)
    keys = list(LocalStore(store_dir).list(f"raw/{SITE}/"))
    assert len(keys) >= 3
    assert keys[0].endswith(f"{result.run_id}-00000.warc.gz")
    assert keys[1].endswith(f"{result.run_id}-00001.warc.gz")
    seen: list[str] = []
    for key in keys:
        assert warcio_check(store_dir / key).returncode == 0
        recs = records_of((store_dir / key).read_bytes())
        assert recs[0]["type"] == "warcinfo"
        fetches = [r for r in recs if r["type"] == "response"]
        requests = [r for r in recs if r["type"] == "request"]
        assert [r["uri"] for r in fetches] == [r["uri"] for r in requests]  # pairs never split
        seen.extend(path_of(r["uri"]) for r in fetches)
    assert sorted(seen) == sorted(CAPTURED)
    assert not (tmp_path / "warc-tmp" / "archive-harvester-warc").exists() or not any(
        (tmp_path / "warc-tmp" / "archive-harvester-warc").rglob("*.warc.gz"))


def test_crawl_into_s3(site_url, tmp_path, s3_server):
    bucket = s3_server.new_bucket("warc")
    env = {"AWS_ENDPOINT_URL": s3_server.endpoint_url}
    result = crawl(site_url, f"s3://{bucket}/harvest", tmp_path, env=env)
    store = S3Store.from_uri(f"s3://{bucket}/harvest",
                             options=S3Options(endpoint_url=s3_server.endpoint_url))
    try:
        keys = list(store.list(f"raw/{SITE}/"))
        assert keys == [f"raw/{SITE}/{result.run_id}-00000.warc.gz"]
        data = store.get(keys[0]) or b""
        local = Path(tmp_path / "copy.warc.gz")
        local.write_bytes(data)
        assert warcio_check(local).returncode == 0
        assert {path_of(u): b for u, b in replayed(data).items()} == CAPTURED
        indexes = list(store.list(f"state/{SITE}/payloads/"))
        assert len(indexes) == 1
        assert len(json.loads(store.get(indexes[0]) or b"")["payloads"]) == 4
    finally:
        store.close()
