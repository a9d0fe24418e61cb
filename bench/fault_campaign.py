"""Fault campaign: a harvest of the sample archive into S3 under every site fault, an S3
outage and two SIGKILLs, then the books: nothing lost, nothing duplicated, nothing wrong.

    .venv/bin/python bench/fault_campaign.py [--size 200]

Runs only on loopback: the sample archive (a child process), moto's S3 server and a TCP
proxy in front of it that is switched off for the outage. Prints the faults injected, the
records expected / stored / lost / duplicated / wrong and the pages fetched more than once;
exits 1 when anything was lost, duplicated or wrong.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from harvester.sample import serve_subprocess
from harvester.sample.proxy import TcpProxy

FAULTS = {
    "503": {"rate": 0.1, "times": 1, "paths": "document|listing|download", "retry_after": 1},
    "429": {"rate": 0.06, "times": 1, "paths": "document|download", "retry_after": 1},
    "500": {"rate": 0.08, "times": 2, "paths": "document|download"},
    "challenge": {"rate": 0.1, "times": 1, "paths": "document|listing"},
    "truncate": {"rate": 0.08, "times": 1, "paths": "document|download"},
    "slow": {"rate": 0.04, "delay": 0.3, "paths": "document"},
    "reset": {"rate": 0.04, "times": 1, "paths": "document"},
    "redirect": {"rate": 0.05, "times": 1, "paths": "document"},
}
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "AKIACAMPAIGN00000000", "AWS_SECRET_ACCESS_KEY": "campaign-secret",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


def keys(client: Any, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def wait_for(client: Any, bucket: str, n: int, proc: subprocess.Popen[bytes], limit: float) -> None:
    deadline = time.monotonic() + limit
    while len(keys(client, bucket, "h/records/")) < n:
        if proc.poll() is not None or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200)
    args = parser.parse_args()
    os.environ.update(FAKE_AWS)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    client = boto3.client("s3", endpoint_url=f"http://{host}:{port}")
    client.create_bucket(Bucket="campaign")
    proxy = TcpProxy(host, port)
    work = Path(tempfile.mkdtemp(prefix="fault-campaign-"))
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "HARVESTER_SPOOL_DIR": str(work / "spool")}
    third = max(1, args.size // 3)
    try:
        with serve_subprocess(size=args.size, faults=FAULTS) as (base_url, control):
            cmd = [sys.executable, "-m", "harvester.cli", "harvest", "wilson", "--store",
                   "s3://campaign/h", "--base-url", base_url, "-s", "DOWNLOAD_DELAY=0.01",
                   "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
                   "-s", "HARVESTER_BACKOFF_BASE=0.05", "-s", "HARVESTER_CHALLENGE_PAUSE=0.05",
                   "-s", "HARVESTER_S3_RETRY_ATTEMPTS=2", "-s", "HARVESTER_S3_RETRY_SECONDS=1",
                   "-s", "HARVESTER_SPOOL_COOLDOWN=5", "-s", "LOG_LEVEL=WARNING"]
            log = open(work / "harvest.log", "ab")  # noqa: SIM115 - closed below
            events = []
            # 1: SIGKILL a third of the way through the backfill
            proc = subprocess.Popen(cmd + ["--mode", "backfill"], env=env, stdout=log, stderr=log)
            wait_for(client, "campaign", third, proc, 300)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            events.append(f"SIGKILL at {len(keys(client, 'campaign', 'h/records/'))} records")
            # 2: the store goes away for a while, then SIGKILL while writes wait in the spool
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
            wait_for(client, "campaign", 2 * third, proc, 300)
            proxy.down = True
            events.append(f"S3 outage at {len(keys(client, 'campaign', 'h/records/'))} records")
            time.sleep(3)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            spooled = sum(1 for _ in (work / "spool").rglob("*.json"))
            events.append(f"SIGKILL during the outage with {spooled} writes spooled")
            proxy.down = False
            # 3: reruns until a run finishes clean (documents that failed are retried)
            codes = []
            for _ in range(4):
                codes.append(subprocess.run(cmd, env=env, stdout=log, stderr=log).returncode)
                if codes[-1] == 0 and not keys(client, "campaign", "h/state/wilson/failed/"):
                    break
            log.close()
            stats = control.stats()
            expected = {r["record_id"]: r for r in control.archive().expected_records()}
    finally:
        proxy.close()
    stored: dict[str, dict[str, Any]] = {}
    for key in keys(client, "campaign", "h/records/wilson/"):
        record = json.loads(client.get_object(Bucket="campaign", Key=key)["Body"].read())
        stored[record["record_id"]] = record
    wrong = 0
    for rid, exp in expected.items():
        got = stored.get(rid)
        if got is None:
            continue
        for name, value in exp.items():
            mine = got.get(name)
            if name == "files":
                mine, value = [f["url"] for f in mine], [f["url"] for f in value]
            if mine != value:
                wrong += 1
                break
        if any(f.get("key") is None for f in got["files"]):
            wrong += 1
    duplicated = len(keys(client, "campaign", "h/versions/"))
    lost = len(set(expected) - set(stored))
    docs = {p: n for p, n in stats["by_path"].items()
            if p.startswith("/document/") and not p.endswith("/download")}
    refetched = sum(n - 1 for n in docs.values())
    moto.stop()
    print("fault campaign: sample archive of", args.size, "documents into S3 (moto on loopback)")
    for event in events:
        print("  event:", event)
    print("  faults injected:", json.dumps(stats.get("faults", {}), sort_keys=True),
          f"(total {sum(stats.get('faults', {}).values())})")
    print("  exit statuses of the reruns:", codes)
    print(f"  records expected {len(expected)}, stored {len(stored)}, lost {lost}, "
          f"duplicated {duplicated}, wrong {wrong}")
    print(f"  document pages fetched {sum(docs.values())} for {len(docs)} documents: "
          f"{refetched} refetched (in flight at a kill, retried after a fault, or re-read after "
          f"the outage)")
    ok = lost == 0 and duplicated == 0 and wrong == 0 and len(stored) == len(expected)
    print("  verdict:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
