"""SIGKILL during a backfill into S3 (moto's server), where the resume cursor travels with
the seen markers (one checkpoint object, harvester/state.py "Checkpoints"): the next run
resumes at the checkpoint's cursor, fetches again only what the kill left unmarked, and the
store ends complete, nothing stored twice, every record in a changes feed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from crawl_support import FAST, HARVESTER, assert_matches_ground_truth

from harvester.sample import serve_subprocess

DOCS, PAGE = 100, 10
PAGES = DOCS // PAGE  # listing pages 0-9 (the cursor is the page number)
PREFIX = "h/"


def _objects(client: Any, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for page in client.get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix=PREFIX + prefix) for o in page.get("Contents", [])]


def _json(client: Any, bucket: str, key: str) -> Any:
    return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def _checkpoint(client: Any, bucket: str) -> dict[str, Any] | None:
    """The newest seen batch's cursor, if it carries one."""
    keys = _objects(client, bucket, "state/wilson/seen-batch/")
    for key in reversed(keys):
        try:
            body = _json(client, bucket, key)
        except client.exceptions.NoSuchKey:
            continue
        if isinstance(body.get("resume"), dict):
            urls = {m.get("url") for m in (body.get("markers") or {}).values()}
            return {**body["resume"], "urls": urls}
    return None


def test_sigkill_mid_backfill_into_s3_resumes_at_the_checkpoint(tmp_path: Path,
                                                                 moto_s3: Any) -> None:
    client, bucket = moto_s3.client, moto_s3.new_bucket("resume")
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_s3.endpoint_url,
           "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
    with serve_subprocess(size=DOCS) as (base_url, control):
        cmd = [*HARVESTER, "harvest", "wilson", "--store", f"s3://{bucket}/h", "--base-url",
               base_url, *FAST, "-s", "DOWNLOAD_DELAY=0.05", "-s",
               "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", f"HARVESTER_LISTING_PAGE_SIZE={PAGE}",
               "-s", "HARVESTER_CHECKPOINT_SECONDS=0.3", "-s", "HARVESTER_OAI_INDEX=False"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            seen = None
            while time.monotonic() < deadline and proc.poll() is None:
                seen = _checkpoint(client, bucket)
                if seen is not None and isinstance(seen["cursor"], int) and seen["cursor"] >= 3:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError(f"no checkpoint past page 3 before the run ended: {seen}")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        campaign = _json(client, bucket, PREFIX + "state/wilson/backfill.json")
        assert campaign["status"] == "running" and campaign["resume"] is None  # written once
        killed = _checkpoint(client, bucket)
        assert killed is not None and killed["campaign"] == campaign["id"]

        final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
        assert final.returncode == 0, final.stderr[-3000:]
        expected = {r["record_id"]: r for r in control.archive().expected_records()}
        by_path = control.stats()["by_path"]
    records = {}
    for key in _objects(client, bucket, "records/wilson/"):
        record = _json(client, bucket, key)
        records[record["record_id"]] = record
    assert_matches_ground_truth(records, expected)
    assert not _objects(client, bucket, "versions/")  # nothing stored twice as a change
    reports = sorted((_json(client, bucket, k) for k in _objects(client, bucket, "runs/wilson/")
                      if not k.endswith(".changes.jsonl")), key=lambda r: r["run_id"])
    assert [r["status"] for r in reports] == ["interrupted", "finished"]
    resumed = reports[-1]
    assert resumed["mode"] == "backfill" and resumed["campaign"] == campaign["id"]
    # it began at the checkpoint's page, not at the first (a whole walk reads ten or more)
    assert resumed["stats"]["listing/pages"] <= PAGES - killed["cursor"] + 1
    docs = {p: n for p, n in by_path.items()
            if p.startswith("/document/") and "/download" not in p}
    assert len(docs) == DOCS
    # fetched again: only what the kill left unmarked (since the checkpoint, or in flight)
    marked = [u for u in killed["urls"] if u in docs]
    assert len(marked) >= killed["cursor"] * PAGE and all(docs[u] == 1 for u in marked)
    fed: set[str] = set()
    for key in _objects(client, bucket, "runs/wilson/"):
        if key.endswith(".changes.jsonl"):
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            fed |= {json.loads(line)["record_id"] for line in body.splitlines()}
    assert fed == set(records)  # the killed run's feed rebuilt from its journal
