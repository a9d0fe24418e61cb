"""The OAI-PMH source's backfill against a plain Sickle loop (issue 15).

Both harvest the same repository, served from its own process, 100 records a page, one after
the other, timed from outside. Two repositories (`--server`): the sample archive's OAI-PMH
endpoint (harvester/sample/oai.py, over its generated documents: the issue's "sample
repository"), and the test look-alike (tests/oai/oai_lookalike.py) with its selection indexed,
an in-memory server that answers a page in a few milliseconds (the hardest case for the
client: nothing of its own work hides behind the server's).
- Sickle: `for record in Sickle(url).ListRecords(metadataPrefix="oai_dc")`, each record's
  header and metadata written to a JSON file of its own (no state, no dedup, no resume);
- the harvester: `harvester harvest oai --endpoint URL --name bench` into a local store,
  with everything it does (Identify, date windows, mapping, validation, dedup, the store's
  journal and seen markers, the changes feed, the run report, the OAI index).
The harvester stores records only by default, as Sickle does (`--files`: it also downloads
each record's PDFs with fixity). Records per second of each, the ratio (target >= 0.8), the
harvester's CPU per record, and its peak RSS over sizes (`--memory-sizes 10000 100000`;
target: flat, growth <= 25 MB). Run: `.venv/bin/python bench/oai_source.py [--sizes 2000
10000] [--rounds 2] [--server sample|lookalike|both] [--memory-sizes ...]
[--memory-server sample|lookalike]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, SPEED, run_child, verdict, workdir, write_result  # noqa: E402

SERVER = """
import sys
sys.path.insert(0, {bench!r})
from oai_indexed import IndexedRepository
from oai_lookalike import LookalikeServer

repo = IndexedRepository(page_size=100)
repo.add({size}, spread=5)
repo.expire_after = None
repo.index()
with LookalikeServer(repo) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""

SAMPLE_SERVER = """
import sys
from harvester.sample.corpus import SampleArchive
from harvester.sample.server import SampleServer
with SampleServer(SampleArchive({size}), oai={{"page_size": 100}}) as server:
    print(server.base_url + "/oai", flush=True)
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


def one_size(size: int, rounds: int, server_kind: str, files: bool) -> dict[str, Any]:
    """One size against one server: the best of `rounds` of each, the sides taking turns at
    going first (the first request of all also warms the server's caches)."""
    if server_kind == "sample":
        code = SAMPLE_SERVER.format(size=size)
    else:
        code = SERVER.format(bench=str(ROOT / "bench"), size=size)
    server = subprocess.Popen([PYTHON, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    best_sickle, best_harvest, rss, cpu = float("inf"), float("inf"), 0.0, float("inf")
    switches = [] if files else ["-s", "HARVESTER_DOWNLOAD_FILES=False"]

    def sickle() -> None:
        nonlocal best_sickle
        with workdir("oai-sickle") as tmp:
            child = run_child([PYTHON, "-c", SICKLE, url, str(tmp / "out")])
            assert child.code == 0 and int(child.stdout.strip()) == size, child.stderr[-2000:]
            best_sickle = min(best_sickle, child.seconds)

    def harvester() -> None:
        nonlocal best_harvest, rss, cpu
        with workdir("oai-harvest") as tmp:
            child = run_child([PYTHON, "-m", "harvester.cli", "harvest", "oai", "--endpoint",
                               url, "--name", "bench", "--store", str(tmp / "store"),
                               *SPEED, "-s", "HARVESTER_PROGRESS=off", *switches],
                              env={"HARVESTER_SPOOL_DIR": str(tmp / "spool")},
                              sample_children=True)
            assert child.code == 0, child.stderr[-3000:]
            stored = len(list((tmp / "store" / "records" / "bench").glob("*.json")))
            assert stored == size, stored
            best_harvest = min(best_harvest, child.seconds)
            rss = max(rss, child.peak_rss_mb)
            cpu = min(cpu, child.cpu_seconds)

    try:
        for number in range(rounds):  # the sides take turns at going first
            for side in ((sickle, harvester) if number % 2 == 0 else (harvester, sickle)):
                side()
    finally:
        server.stdin.close()
        server.wait(30)
    row: dict[str, Any] = {
        "server": server_kind, "files": files, "records": size,
        "sickle_rps": round(size / best_sickle, 1),
        "harvester_rps": round(size / best_harvest, 1),
        "ratio": round(best_sickle / best_harvest, 2), "harvester_peak_rss_mb": round(rss, 1),
        "harvester_cpu_ms_per_record": round(cpu / size * 1000, 2)}
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 10000])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--server", choices=["sample", "lookalike", "both"], default="both")
    parser.add_argument("--files", action="store_true",
                        help="the harvester also downloads each record's PDFs (Sickle does not)")
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[],
                        help="sizes for the peak-RSS row only (e.g. 10000 100000)")
    parser.add_argument("--memory-server", choices=["sample", "lookalike"], default="sample",
                        help="the repository of the peak-RSS rows (the look-alike starts a "
                        "100,000-record repository in about a minute, the sample in ~an hour)")
    args = parser.parse_args()
    kinds = ["sample", "lookalike"] if args.server == "both" else [args.server]
    rows = []
    for kind in kinds:
        for size in args.sizes:
            started = time.perf_counter()
            row = one_size(size, args.rounds, kind, args.files)
            rows.append(row)
            print(f"{kind} repository, {size} records{' (+files)' if args.files else ''}: "
                  f"Sickle {row['sickle_rps']} rec/s, harvester {row['harvester_rps']} rec/s, "
                  f"ratio {row['ratio']} ({verdict(float(row['ratio']) >= 0.8)} >= 0.8), "
                  f"peak RSS {row['harvester_peak_rss_mb']} MB "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    memory = [one_size(size, 1, args.memory_server, False) for size in args.memory_sizes]
    for row in memory:
        print(f"memory: {row['records']} records, harvester peak RSS "
              f"{row['harvester_peak_rss_mb']} MB (ratio {row['ratio']})", flush=True)
    sized = memory or [r for r in rows if r["server"] == kinds[0]]
    growth = float(sized[-1]["harvester_peak_rss_mb"]) - float(sized[0]["harvester_peak_rss_mb"])
    ok = all(float(r["ratio"]) >= 0.8 for r in rows) and growth <= 25
    print(f"peak RSS growth {sized[0]['records']} -> {sized[-1]['records']} records: "
          f"{growth:.1f} MB ({verdict(growth <= 25)} <= 25 MB)")
    write_result("oai_source" if rows else "oai_source_memory",
                 rows + [{"memory": m} for m in memory])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
