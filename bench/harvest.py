"""Harvest benchmark: backfill speed against a fetch-only Scrapy spider, and S3 against local.

    python bench/harvest.py [--docs 2000] [--rounds 2] [--no-s3] [--s3 ceph|moto]

One sample server (`serve_subprocess`, its own process: no GIL shared with the crawlers)
serves `--docs` documents. Each round runs, one after the other on that server:
  1. bench/fetch_only.py: fetches the same listing pages, documents and PDFs, nothing else;
  2. the harvester's backfill into a fresh local store (the CLI, WARC capture and all);
  3. the same backfill into a fresh bucket of a real S3 server: Ceph's RADOS Gateway, a
     throwaway single-node cluster on loopback (tests/services/ceph_rgw.py; `--s3 moto`:
     `python -m moto.server` instead); AWS_ENDPOINT_URL and credentials in the env.
Both crawlers use DOWNLOAD_DELAY=0, no AutoThrottle, CONCURRENT_REQUESTS(_PER_DOMAIN)=8.
Speed is documents / wall seconds of the whole process (start-up included, the same for
every side); each side's best round is compared, which damps a noisy shared machine.

Targets: local backfill >= 0.8 x fetch-only; S3 backfill (Ceph RGW) >= 0.8 x local backfill
(issue 17; 0.7 was issue 7's target against moto).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CONCURRENCY,
    FAKE_AWS,
    Heartbeat,
    create_bucket,
    fetch_only,
    harvest,
    s3_server,
    verdict,
    workdir,
    write_result,
)
from harvester.sample import serve_subprocess  # noqa: E402

LOCAL_TARGET = 0.8
S3_TARGET = 0.8
SERVER_NAMES = {"ceph": "Ceph RGW", "moto": "moto server"}


def count_local_records(store: Path) -> int:
    return sum(1 for _ in (store / "records" / "wilson").glob("*.json"))


def count_s3_records(endpoint: str, bucket: str) -> int:
    import boto3

    client = boto3.session.Session().client("s3", endpoint_url=endpoint)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                             Prefix="h/records/wilson/")
    n = sum(len(page.get("Contents", [])) for page in pages)
    client.close()
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--s3", choices=["ceph", "moto"], default="ceph",
                        help="the S3 server (default: Ceph RGW)")
    args = parser.parse_args(argv)
    n = args.docs
    best: dict[str, float] = {}

    def keep(side: str, seconds: float) -> None:
        best[side] = min(best.get(side, seconds), seconds)
        print(f"  {side:<11} {seconds:7.1f} s  {n / seconds:6.1f} docs/s", flush=True)

    with serve_subprocess(size=n) as (base_url, control), workdir("harvest") as tmp, \
            (s3_server(args.s3) if not args.no_s3 else _nothing()) as endpoint, Heartbeat():
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds} ({n} documents, concurrency {CONCURRENCY})",
                  flush=True)
            child, counts = fetch_only(base_url)
            if counts["documents"] != n:
                raise RuntimeError(f"fetch-only fetched {counts}")
            keep("fetch-only", child.seconds)
            store = tmp / f"local-{r}"
            child = harvest(str(store), base_url, tmp / f"w-local-{r}")
            got = count_local_records(store)
            if got != n:
                raise RuntimeError(f"local backfill stored {got} records, not {n}")
            keep("local", child.seconds)
            if endpoint:
                bucket = f"bench-{r}"
                create_bucket(endpoint, bucket)
                env = {**FAKE_AWS, "AWS_ENDPOINT_URL": endpoint}
                child = harvest(f"s3://{bucket}/h", base_url, tmp / f"w-s3-{r}", env=env)
                got = count_s3_records(endpoint, bucket)
                if got != n:
                    raise RuntimeError(f"S3 backfill stored {got} records, not {n}")
                keep("s3", child.seconds)
    rate = {side: n / seconds for side, seconds in best.items()}
    rows = []
    ratio = rate["local"] / rate["fetch-only"]
    rows.append({
        "benchmark": f"Backfill {n} docs, local store vs fetch-only spider",
        "measured": f"{rate['local']:.1f} vs {rate['fetch-only']:.1f} docs/s",
        "target": f">= {LOCAL_TARGET}x", "ratio": round(ratio, 2),
        "ok": ratio >= LOCAL_TARGET, "command": "python bench/harvest.py",
    })
    if "s3" in rate:
        ratio = rate["s3"] / rate["local"]
        rows.append({
            "benchmark": f"Backfill {n} docs, S3 ({SERVER_NAMES[args.s3]}) vs local store",
            "measured": f"{rate['s3']:.1f} vs {rate['local']:.1f} docs/s",
            "target": f">= {S3_TARGET}x", "ratio": round(ratio, 2),
            "ok": ratio >= S3_TARGET, "command": "python bench/harvest.py",
        })
    for row in rows:
        print(f"{row['benchmark']}: {row['measured']} -> ratio {row['ratio']} "
              f"(target {row['target']}) {verdict(row['ok'])}")
    write_result("harvest", rows)
    return 0 if all(r["ok"] for r in rows) else 1


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
