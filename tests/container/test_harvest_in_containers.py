"""A harvest from the image: two worker containers on the host network share one crawl of
the sample archive through redis-server, into a real S3 server (Ceph's RADOS Gateway, the
session's throwaway cluster of tests/services/ceph_rgw.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from container_support import Container

from harvester.sample import serve_subprocess

# the first test also waits for the image's build (a fresh machine: debootstrap, wheels)
pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

DOCS = 48


def _objects(client: Any, bucket: str, prefix: str) -> dict[str, bytes]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return out


def test_two_worker_containers_share_one_crawl_into_ceph(image: str, ceph_rgw: Any,
                                                          redis_url: str) -> None:
    bucket = ceph_rgw.new_bucket("containers")
    with serve_subprocess(size=DOCS) as (base_url, control):
        env = {  # configured the way the compose file and the manifests do: variables
            "HARVESTER_STORE": f"s3://{bucket}/da",
            "HARVESTER_REDIS_URL": redis_url,
            "HARVESTER_BASE_URL": base_url,
            "HARVESTER_MODE": "backfill",
            "HARVESTER_DOWNLOAD_DELAY": "0.05",
            "HARVESTER_AUTOTHROTTLE": "false",
            "HARVESTER_CONCURRENCY": "2",
            "HARVESTER_SPOOL_DIR": "/tmp/spool",
            **{k: v for k, v in ceph_rgw.env.items() if k.startswith(("AWS_ENDPOINT", "AWS_ACCESS",
                                                                       "AWS_SECRET", "AWS_DEFAULT"))},
        }
        argv = ["harvest", "wilson", "-s", "HARVESTER_LISTING_PAGE_SIZE=8",
                "-s", "HARVESTER_REDIS_HEARTBEAT=0.5", "-s", "HARVESTER_REDIS_IDLE_POLL=0.2"]
        workers = [Container(argv, env).start() for _ in range(2)]
        try:
            results = [w.wait(timeout=240) for w in workers]
        finally:
            for w in workers:
                w.remove()
        for code, _out, err in results:
            assert code == 0, err[-3000:]
        expected = {r["record_id"]: r for r in control.archive().expected_records()}
        fetched = control.stats()["by_kind"]

    records = {json.loads(body)["record_id"]: json.loads(body)
               for body in _objects(ceph_rgw.client, bucket, "da/records/wilson/").values()}
    assert sorted(records) == sorted(expected)
    for rid, exp in expected.items():
        assert records[rid]["title"] == exp["title"] and records[rid]["date"] == exp["date"]
    assert fetched.get("document", 0) == DOCS  # one crawl: every page fetched once
    reports = [json.loads(body) for key, body in
               _objects(ceph_rgw.client, bucket, "da/runs/wilson/").items()
               if key.endswith(".json")]
    assert len(reports) == 2 and {r["status"] for r in reports} == {"finished"}
    assert len({r["host"] for r in reports}) == 1  # --network host: the host's name
    assert sum(r["counts"]["new"] for r in reports) == DOCS  # each record stored once
    assert all(r["requests"]["document"] > 0 for r in reports), \
        [r["requests"] for r in reports]  # both workers took part
    assert not _objects(ceph_rgw.client, bucket, "da/versions/")
