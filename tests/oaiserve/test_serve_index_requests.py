"""What keeping the OAI index costs a harvest with the default settings (the index on),
counted from outside by a proxy in front of S3 (moto's and Ceph's RGW): a backfill's index
is a few objects written (no HEAD before a PUT, one id bucket for a small source), an idle
incremental run asks nothing of the index; and what an idle run still catches up: a feed
whose run left its pending marker (killed after its feed, or its update failed)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from serve_support import FAST, HARVESTER
from services.s3_counter import CountingProxy

from harvester.keys import changes_key, record_key
from harvester.oaiserve.extension import pending_key
from harvester.oaiserve.index import IndexReader, Query, load_latest_manifest
from harvester.sample import serve_subprocess
from pipelines.storage import open_store
from pipelines.storage.s3 import S3Options, S3Store


def _harvest(store: str, base_url: str, env: dict[str, str]) -> None:
    run = subprocess.run([*HARVESTER, "harvest", "wilson", "--store", store, "--base-url",
                          base_url, *FAST], capture_output=True, text=True, timeout=300,
                         env={**os.environ, **env})
    assert run.returncode == 0, run.stderr[-3000:]


def _total(counts: Any, op: str | None = None, kind: str | None = None) -> int:
    return sum(n for (o, k), n in counts.items()
               if (op is None or o == op) and (kind is None or k == kind))


def _listed(store: Any) -> list[tuple[str, str, bool]]:
    reader = IndexReader(store, ttl=0)
    manifest = reader.manifest()
    assert manifest is not None
    return [(e.record_id, e.datestamp, e.deleted)
            for e in reader.select(manifest, Query("oai_dc"), None, 100_000)]


def test_the_index_costs_a_backfill_a_few_requests_and_an_idle_run_none(
        tmp_path: Path, s3_server: Any) -> None:
    bucket = s3_server.new_bucket("oaicost")
    with serve_subprocess(size=40) as (base_url, control), \
            CountingProxy(s3_server.endpoint_url, bucket=bucket, prefix="h/") as proxy:
        env = {"AWS_ENDPOINT_URL": proxy.url, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
        _harvest(f"s3://{bucket}/h", base_url, env)
        backfill = proxy.counts()
        proxy.reset()
        _harvest(f"s3://{bucket}/h", base_url, env)
        idle = proxy.counts()
        docs = len(list(control.archive().expected_records()))
    # the backfill's index: listings of the manifests (none yet) and of the store, the feed
    # read, one bucket, one segment, the feeds list and the manifest written; nothing asked
    # before a PUT; the run's pending marker written and deleted
    assert _total(backfill, "HEAD") == 0, sorted(backfill.items())
    assert _total(backfill, kind="index") <= 6, sorted(backfill.items())
    assert _total(backfill, "PUT", "index") == 4  # bucket, segment, feeds, manifest
    index_and_marker = _total(backfill, kind="index") + 2 + 3  # + marker, + 3 LIST/GET
    assert index_and_marker <= 0.5 * docs
    # the idle run: nothing of the index, nothing beside its report and (empty) feed
    assert _total(idle, kind="index") == 0, sorted(idle.items())
    assert _total(idle, "PUT") == 2 and _total(idle, "DELETE") == 0, sorted(idle.items())
    assert _total(idle) - _total(idle, "LIST") <= 5, sorted(idle.items())  # issue 17
    s3 = S3Store(bucket, "h", options=S3Options(endpoint_url=s3_server.endpoint_url))
    assert len(_listed(s3)) == docs
    assert not [k for k in s3.list("runs/") if k.endswith(".oai-pending")]


def test_an_idle_run_indexes_a_feed_its_run_left_pending(tmp_path: Path) -> None:
    root = tmp_path / "store"
    env = {"HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
    with serve_subprocess(size=12) as (base_url, _control):
        _harvest(str(root), base_url, env)
        store = open_store(str(root))
        first = load_latest_manifest(store)
        assert first is not None
        ids = sorted(r for r, _, _ in _listed(store))

        def feed(run_id: str, rid: str, when: str) -> None:
            record = json.loads(store.get(record_key("wilson", rid)) or b"{}")
            record["harvested_at"] = when
            store.put(record_key("wilson", rid), json.dumps(record).encode())
            store.put(changes_key("wilson", run_id), (json.dumps({
                "record_id": rid, "change": "changed", "content_sha256": record["content_sha256"],
                "key": record_key("wilson", rid), "url": record["url"],
                "title": record["title"], "run_id": run_id, "harvested_at": when}) + "\n"
            ).encode())
            store.put(f"runs/wilson/{run_id}.json", json.dumps({
                "site": "wilson", "run_id": run_id, "status": "finished"}).encode())

        # a run without a marker (the index was off): an idle run leaves the index alone
        feed("20300101T000000Z-abcdef01", ids[0], "2030-01-01T00:00:00Z")
        _harvest(str(root), base_url, env)
        after_idle = load_latest_manifest(store)
        assert after_idle is not None and after_idle.generation == first.generation
        # a run killed after its feed was written, before its update: its marker is there,
        # and the next run, idle as it is, indexes both feeds and drops the marker
        killed = "20300102T000000Z-abcdef02"
        feed(killed, ids[1], "2030-01-02T00:00:00Z")
        store.put(pending_key("wilson", killed), b"")
        _harvest(str(root), base_url, env)
    caught = load_latest_manifest(store)
    assert caught is not None and caught.generation == first.generation + 1
    listed = _listed(store)
    assert listed[-2:] == [(ids[0], "2030-01-01T00:00:00Z", False),
                           (ids[1], "2030-01-02T00:00:00Z", False)]
    assert not store.exists(pending_key("wilson", killed))
    assert len(listed) == len(ids)
