"""The harvester's own CPU: CPU seconds per 1,000 documents of a backfill against a
fetch-only Scrapy spider fetching the same pages and files.

    python bench/cpu.py [--docs 1500] [--rounds 2]

One sample server (its own process, not counted) serves --docs documents; the listing is
read at 100 results a page. Each round runs, one after the other on that server:
  1. bench/fetch_only.py: robots.txt, the listing pages, every document page and its PDFs;
  2. the harvester's backfill into a fresh local store (the CLI as users run it: extraction
     and WARC rendering in its worker process, store, run report).
Both with DOWNLOAD_DELAY=0, no AutoThrottle, CONCURRENT_REQUESTS(_PER_DOMAIN)=8.
CPU is the process's rusage from wait4 (user + system), which includes the children it
reaped (the harvester's extraction worker), so what the harvester spends in any of its
processes is counted. Each side's best round counts.

Target: the harvester <= 1.5x the fetch-only spider's CPU seconds per 1,000 documents.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    CONCURRENCY,
    Heartbeat,
    fetch_only,
    harvest,
    verdict,
    workdir,
    write_result,
)
from harvester.sample import serve_subprocess  # noqa: E402

TARGET = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    n = args.docs
    best: dict[str, float] = {}
    wall: dict[str, float] = {}

    def keep(side: str, cpu: float, seconds: float) -> None:
        best[side] = min(best.get(side, cpu), cpu)
        wall[side] = min(wall.get(side, seconds), seconds)
        print(f"  {side:<11} {cpu:6.1f} s CPU ({cpu / n * 1000:5.2f} s per 1,000 docs), "
              f"{seconds:6.1f} s wall", flush=True)

    with serve_subprocess(size=n) as (base_url, _control), workdir("cpu") as tmp, Heartbeat():
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds} ({n} documents, concurrency {CONCURRENCY})",
                  flush=True)
            child, counts = fetch_only(base_url)
            if counts["documents"] != n:
                raise RuntimeError(f"fetch-only fetched {counts}")
            keep("fetch-only", child.cpu_seconds, child.seconds)
            store = tmp / f"local-{r}"
            child = harvest(str(store), base_url, tmp / f"w-{r}", "--mode", "backfill")
            got = sum(1 for _ in (store / "records" / "wilson").glob("*.json"))
            if got != n:
                raise RuntimeError(f"backfill stored {got} records, not {n}")
            keep("harvester", child.cpu_seconds, child.seconds)
    per_k = {side: cpu / n * 1000 for side, cpu in best.items()}
    ratio = per_k["harvester"] / per_k["fetch-only"]
    row = {
        "benchmark": f"CPU of a backfill of {n} docs (100 a listing page) vs fetch-only spider",
        "measured": f"{per_k['harvester']:.2f} vs {per_k['fetch-only']:.2f} CPU-s per 1,000 docs "
                    f"(wall {wall['harvester']:.1f} vs {wall['fetch-only']:.1f} s)",
        "target": f"<= {TARGET:g}x", "ratio": round(ratio, 2), "ok": ratio <= TARGET,
        "command": "python bench/cpu.py",
    }
    print(f"{row['benchmark']}: {row['measured']} -> ratio {row['ratio']} (target "
          f"{row['target']}) {verdict(row['ok'])}")
    write_result("cpu", [row])
    return 0 if row["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
