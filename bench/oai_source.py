"""The OAI-PMH source's backfill against a plain Sickle loop (issue 15).

Both harvest the same look-alike repository (tests/oai/oai_lookalike.py, served from its own
process, 100 records a page, seconds granularity), one after the other, timed from outside:
- Sickle: `for record in Sickle(url).ListRecords(metadataPrefix="oai_dc")`, each record's
  header and metadata written to a JSON file of its own (no state, no dedup, no resume);
- the harvester: `harvester harvest oai --endpoint URL --name bench` into a local store,
  with everything it does (Identify, date windows, mapping, validation, dedup, the store's
  journal and seen markers, the changes feed, the run report, the OAI index).
Records per second of each, the ratio (target >= 0.8), and the harvester's peak RSS at two
sizes (target: flat, growth <= 25 MB). Run: `.venv/bin/python bench/oai_source.py [--sizes
2000 10000] [--rounds 2]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, SPEED, run_child, verdict, workdir, write_result  # noqa: E402

SERVER = """
import bisect, sys, time
sys.path.insert(0, {tests!r})
from oai_lookalike import LookalikeServer, Repository

class Served(Repository):
    # the look-alike's protocol, with its selection indexed: the records never change in
    # the benchmark, so a page costs the server the same at 100,000 records as at 2,000
    # (the look-alike scans every record for every page: O(n) a page)
    def index(self):
        self.order = sorted(self.items.values(), key=lambda i: (i.datestamp, i.identifier))
        self.stamps = [i.datestamp.replace(microsecond=0) for i in self.order]
        self.xml = {{}}

    def _selected(self, query):
        start, stop = self._check_stamp(query.get("from")), self._check_stamp(query.get("until"))
        low = bisect.bisect_left(self.stamps, start) if start else 0
        high = bisect.bisect_right(self.stamps, stop) if stop else len(self.order)
        return self.order[low:high]

    def _record(self, item):
        text = self.xml.get(item.identifier)
        if text is None:
            text = self.xml[item.identifier] = Repository._record(self, item)
        return text

repo = Served(page_size=100)
repo.add({size}, spread=5)
repo.expire_after = None
repo.index()
with LookalikeServer(repo) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""

SICKLE = """
import json, sys
from pathlib import Path
from sickle import Sickle
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
n = 0
for record in Sickle(sys.argv[1], max_retries=3).ListRecords(metadataPrefix="oai_dc"):
    n += 1
    (out / f"{n}.json").write_text(json.dumps({"header": record.header.identifier,
        "datestamp": record.header.datestamp, "metadata": record.metadata}))
print(n)
"""


def one_size(size: int, rounds: int) -> dict[str, float | int | str]:
    tests = str(ROOT / "tests" / "oai")
    server = subprocess.Popen([PYTHON, "-c", SERVER.format(tests=tests, size=size)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    best_sickle, best_harvest, rss = float("inf"), float("inf"), 0.0
    try:
        for _ in range(rounds):
            with workdir("oai-sickle") as tmp:
                child = run_child([PYTHON, "-c", SICKLE, url, str(tmp / "out")])
                assert child.code == 0 and int(child.stdout.strip()) == size, child.stderr[-2000:]
                best_sickle = min(best_sickle, child.seconds)
            with workdir("oai-harvest") as tmp:
                child = run_child([PYTHON, "-m", "harvester.cli", "harvest", "oai", "--endpoint",
                                   url, "--name", "bench", "--store", str(tmp / "store"),
                                   *SPEED, "-s", "HARVESTER_PROGRESS=off"],
                                  env={"HARVESTER_SPOOL_DIR": str(tmp / "spool")},
                                  sample_children=True)
                assert child.code == 0, child.stderr[-3000:]
                stored = len(list((tmp / "store" / "records" / "bench").glob("*.json")))
                assert stored == size, stored
                best_harvest = min(best_harvest, child.seconds)
                rss = max(rss, child.peak_rss_mb)
    finally:
        server.stdin.close()
        server.wait(30)
    return {"records": size, "sickle_rps": round(size / best_sickle, 1),
            "harvester_rps": round(size / best_harvest, 1),
            "ratio": round(best_sickle / best_harvest, 2), "harvester_peak_rss_mb": round(rss, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        started = time.perf_counter()
        row = one_size(size, args.rounds)
        rows.append(row)
        print(f"{size} records: Sickle {row['sickle_rps']} rec/s, harvester "
              f"{row['harvester_rps']} rec/s, ratio {row['ratio']} "
              f"({verdict(float(row['ratio']) >= 0.8)} >= 0.8), peak RSS "
              f"{row['harvester_peak_rss_mb']} MB ({time.perf_counter() - started:.0f} s)")
    growth = float(rows[-1]["harvester_peak_rss_mb"]) - float(rows[0]["harvester_peak_rss_mb"])
    ok = all(float(r["ratio"]) >= 0.8 for r in rows) and growth <= 25
    print(f"peak RSS growth {growth:.1f} MB ({verdict(growth <= 25)} <= 25 MB)")
    write_result("oai_source", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
