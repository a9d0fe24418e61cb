"""Run every benchmark and write bench/results/latest.md (the README "Performance" table).

    python bench/run_all.py [--full]      (`make bench` runs it without --full)

Default sizes keep the whole run near 30 minutes on a 2-core machine; --full runs the
memory benchmark at 2,000 and 20,000 documents (the 20,000-document backfill alone takes
~10-15 minutes there) instead of 2,000 and 6,000. Each benchmark leaves its rows in
bench/results/<name>.json; this script gathers them into the Markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="memory at 2,000 and 20,000 docs")
    args = parser.parse_args(argv)
    steps = [
        ("extraction", ["bench/extraction.py"]),
        ("harvest", ["bench/harvest.py"]),
        ("s3_requests", ["bench/s3_requests.py"]),
        ("cpu", ["bench/cpu.py"]),
        ("memory", ["bench/memory.py"] + ([] if args.full else ["--quick"])),
        ("requests", ["bench/request_counts.py"]),
        ("page_cost", ["bench/page_cost.py"]),
        ("oai_provider", ["bench/oai_provider.py"] + ([] if args.full else ["--s3-records", "5000"])),
    ]
    started = time.perf_counter()
    codes = {}
    for name, cmd in steps:
        print(f"== {name}: python {' '.join(cmd)}", flush=True)
        (RESULTS / f"{name}.json").unlink(missing_ok=True)
        t = time.perf_counter()
        codes[name] = subprocess.call([sys.executable, *cmd], cwd=ROOT)
        print(f"== {name}: {time.perf_counter() - t:.0f} s, exit {codes[name]}", flush=True)
    total = time.perf_counter() - started
    rows = []
    for name, cmd in steps:
        path = RESULTS / f"{name}.json"
        if path.is_file():
            rows.extend(json.loads(path.read_text("utf-8")))
        else:
            rows.append({"benchmark": name, "measured": "did not finish", "target": "",
                         "ratio": "", "ok": False, "command": f"python {' '.join(cmd)}"})
    lines = [
        "| Benchmark | Measured | Target | Ratio | Result | Command |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['benchmark']} | {r['measured']} | {r['target']} | {r['ratio']} | "
                     f"{'PASS' if r['ok'] else 'FAIL'} | `{r['command']}` |")
    header = (f"Measured by `make bench` (`python bench/run_all.py{' --full' if args.full else ''}`)"
              f" on {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
              f"{_cores()} cores, Python {platform.python_version()}; the whole run took "
              f"{total / 60:.0f} minutes.\n\nAbsolute numbers vary with the machine and its load; "
              "the ratios, measured side by side in one run, are what to compare.\n\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"\nwrote {RESULTS / 'latest.md'} ({total / 60:.1f} minutes)")
    return 0 if all(r["ok"] for r in rows) else 1


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
