"""Memory benchmark: peak RSS of backfills against the fetch-only spider's, and its growth.

    python bench/memory.py [--sizes 2000,20000] [--quick]

For each size N a sample archive of N documents is served (`serve_subprocess`), then the
fetch-only spider (bench/fetch_only.py) and the harvester's backfill into a fresh local
store run one after the other on it (same settings as bench/harvest.py). Peak RSS is the
kernel's ru_maxrss of each child process (os.wait4), i.e. the high-water mark of the whole
run, start-up included, plus the peak private memory (USS, sampled every 50 ms) of the
processes it starts: the harvester's extraction worker is counted against it.

Targets: the backfill's peak <= 1.5x the fetch-only spider's on the same archive, and the
backfill's peak grows by less than 60 MB from the smallest size to the largest.
--quick uses 2,000 and 6,000 documents (a 20,000-document backfill takes ~10-15 minutes
on a 2-core machine); the growth target then applies to that span.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Heartbeat, fetch_only, harvest, verdict, workdir, write_result  # noqa: E402
from harvester.sample import serve_subprocess  # noqa: E402

PEAK_TARGET = 1.5
GROWTH_TARGET_MB = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--quick", action="store_true", help="sizes 2000,6000")
    args = parser.parse_args(argv)
    sizes = [2000, 6000] if args.quick else [int(s) for s in args.sizes.split(",")]
    peaks: dict[int, tuple[float, float, float]] = {}
    rows = []
    for n in sizes:
        with serve_subprocess(size=n) as (base_url, _), workdir("memory") as tmp, Heartbeat():
            fetch, counts = fetch_only(base_url, sample_children=True)
            if counts["documents"] != n:
                raise RuntimeError(f"fetch-only fetched {counts}")
            run = harvest(str(tmp / "store"), base_url, tmp, sample_children=True)
            stored = sum(1 for _ in (tmp / "store" / "records" / "wilson").glob("*.json"))
            if stored != n:
                raise RuntimeError(f"backfill stored {stored} of {n} records")
        peaks[n] = (run.peak_rss_mb, fetch.peak_rss_mb, run.seconds)
        print(f"  {n:>6} docs: backfill peak {run.peak_rss_mb:6.1f} MB (workers "
              f"{run.children_uss_mb:.1f} MB of it; {run.seconds:.0f} s), "
              f"fetch-only peak {fetch.peak_rss_mb:6.1f} MB ({fetch.seconds:.0f} s)", flush=True)
        ratio = run.peak_rss_mb / fetch.peak_rss_mb
        rows.append({
            "benchmark": f"Peak RSS, backfill of {n} docs vs fetch-only spider",
            "measured": f"{run.peak_rss_mb:.0f} (worker {run.children_uss_mb:.0f}) vs "
                        f"{fetch.peak_rss_mb:.0f} MB",
            "target": f"<= {PEAK_TARGET}x", "ratio": round(ratio, 2),
            "ok": ratio <= PEAK_TARGET,
            "command": "python bench/memory.py" + (" --quick" if args.quick else ""),
        })
    small, large = min(sizes), max(sizes)
    growth = peaks[large][0] - peaks[small][0]
    rows.append({
        "benchmark": f"Peak RSS growth, backfill {small} -> {large} docs",
        "measured": f"{growth:+.0f} MB (fetch-only {peaks[large][1] - peaks[small][1]:+.0f} MB)",
        "target": f"< {GROWTH_TARGET_MB:g} MB", "ratio": round(growth / GROWTH_TARGET_MB, 2),
        "ok": growth < GROWTH_TARGET_MB,
        "command": "python bench/memory.py" + (" --quick" if args.quick else ""),
    })
    for row in rows:
        print(f"{row['benchmark']}: {row['measured']} -> ratio {row['ratio']} "
              f"(target {row['target']}) {verdict(row['ok'])}")
    write_result("memory", rows)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
