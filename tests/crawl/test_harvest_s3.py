"""Harvests of the sample archive into S3 (moto's server and Ceph's RADOS Gateway on loopback),
read back with boto3."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from crawl_support import assert_matches_ground_truth, harvest


def _objects(client, bucket: str, prefix: str) -> dict[str, dict]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj
    return out


def test_backfill_into_s3_then_idle_rerun(tmp_path: Path, sample, s3_server) -> None:
    base_url, control = sample
    bucket = s3_server.new_bucket("harvest")
    client = s3_server.client
    env = {"AWS_ENDPOINT_URL": s3_server.endpoint_url, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
    uri = f"s3://{bucket}/da"
    run = harvest(uri, base_url, env=env)
    assert run.code == 0, run.stderr[-2000:]

    everything = _objects(client, bucket, "")
    assert all(key.startswith("da/") for key in everything)  # nothing outside the prefix
    records = {}
    for key in _objects(client, bucket, "da/records/wilson/"):
        obj = client.get_object(Bucket=bucket, Key=key)
        assert obj["ContentType"] == "application/json"
        record = json.loads(obj["Body"].read())
        records[record["record_id"]] = record
    expected = {r["record_id"]: r for r in control.archive().expected_records()}
    assert_matches_ground_truth(records, expected)
    for record in records.values():
        for entry in record["files"]:
            obj = client.get_object(Bucket=bucket, Key="da/" + entry["key"])
            body = obj["Body"].read()
            assert obj["ContentType"] == "application/pdf"
            assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    reports = [k for k in _objects(client, bucket, "da/runs/wilson/") if k.endswith(".json")]
    assert len(reports) == 1

    before = {k: v["ETag"] + str(v["LastModified"]) for k, v in everything.items()
              if not k.startswith(("da/runs/", "da/raw/"))}
    control.reset_stats()
    again = harvest(uri, base_url, env=env)
    assert again.code == 0, again.stderr[-2000:]
    after = {k: v["ETag"] + str(v["LastModified"]) for k, v in _objects(client, bucket, "").items()
             if not k.startswith(("da/runs/", "da/raw/"))}
    assert after == before
    assert sum(control.stats()["by_kind"].values()) <= 2
