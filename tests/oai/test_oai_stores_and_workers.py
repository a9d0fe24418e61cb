"""The OAI-PMH source with the rest of the engine: an S3 store (moto and Ceph RGW), Redis
workers started by --workers (every worker builds the same source from the settings the
command line gave), and the exports of OAI records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oai_lookalike import LookalikeServer, Repository
from oai_source_support import cli, harvest, records


def test_backfill_and_incremental_into_s3(s3_server: Any, repo: Repository,
                                          server: LookalikeServer) -> None:
    ids = repo.add(22)
    bucket = s3_server.new_bucket("oai")
    store = f"s3://{bucket}/archive"
    env = {"AWS_ENDPOINT_URL": s3_server.endpoint_url}
    assert harvest(server.url, store, env=env).code == 0
    repo.tick(60)
    repo.edit(ids[0], "Record 1, revised")
    repo.delete(ids[1])
    repo.requests.clear()
    run = harvest(server.url, store, env=env)
    assert run.code == 0, run.stderr[-3000:]
    assert [r["verb"] for r in repo.requests] == ["ListRecords"]
    client = s3_server.client
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="archive/records/look/") for o in page.get("Contents", [])]
    assert len(keys) == 22
    got = {}
    for key in keys:
        record = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        got[record["record_id"]] = record
    assert got[ids[0]]["title"] == "Record 1, revised"
    assert got[ids[1]]["status"] == "withdrawn"


def test_redis_workers_share_one_walk(tmp_path: Path, redis_url: str, repo: Repository,
                                      server: LookalikeServer) -> None:
    ids = repo.add(40)
    run = harvest(server.url, str(tmp_path), "--redis", redis_url, "--workers", "2",
                  "-s", "HARVESTER_OAI_WINDOWS=2")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    # one walk, split by window: every list request asked once, not once per worker
    asked = [tuple(sorted(r.items())) for r in repo.list_requests]
    assert len(asked) == len(set(asked)), "\n".join(map(str, asked))
    assert sum(1 for r in repo.requests if r["verb"] == "Identify") == 1


def test_exports_of_oai_records(tmp_path: Path, repo: Repository,
                                server: LookalikeServer) -> None:
    ids = repo.add(12)
    store = tmp_path / "store"
    assert harvest(server.url, str(store)).code == 0
    repo.tick(60)
    repo.delete(ids[2])
    assert harvest(server.url, str(store)).code == 0
    jsonl = tmp_path / "out.jsonl"
    run = cli("export", "--store", str(store), "--site", "look", "--format", "jsonl",
              "--out", str(jsonl))
    assert run.code == 0, run.stderr[-2000:]
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    mine = {r["record_id"]: r for r in lines}
    assert sorted(mine) == sorted(ids) and {r["site"] for r in lines} == {"look"}
    assert mine[ids[2]]["status"] == "withdrawn"
    assert "<dc:title>Record 1</dc:title>" in mine[ids[0]]["oai_metadata"]["oai_dc"]
    dc = tmp_path / "dc"
    run = cli("export", "--store", str(store), "--site", "look", "--format", "dc",
              "--out", str(dc))
    assert run.code == 0, run.stderr[-2000:]
    texts = [p.read_text("utf-8") for p in sorted(dc.glob("*.xml"))]
    assert len(texts) == 11  # the withdrawn record left out
    assert not any("<dc:title>Record 3</dc:title>" in t for t in texts)
    assert any("<dc:title>Record 1</dc:title>" in t and "Archivist, A." in t for t in texts)
