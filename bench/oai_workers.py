"""An OAI-PMH backfill by two --redis workers against one process (issue 15).

The same look-alike repository (tests/oai/oai_lookalike.py, served from its own process,
100 records a page, seconds granularity, each list page answered after `--latency` seconds
as a repository far away or busy answers), harvested three times side by side, each timed
from outside (interpreter start included) into a fresh local store, with the harvester's
politeness default of one request at a time per host and process:
- one process (its date windows one after another);
- two workers of a crawl in a throwaway redis-server on loopback, the backfill left as one
  chain of pages (`HARVESTER_OAI_WINDOWS=1`: one list request in flight for the whole
  crawl, what two workers did before the backfill was split);
- two workers, the backfill split into date windows (the default 16) that they walk in
  parallel.
Records per second of each and the ratios to one process. On this 2-core machine the two
workers (each with its extraction process) share the cores with the repository's process:
what the split buys here is the waiting on the repository done in parallel, not more CPU.
Run: `.venv/bin/python bench/oai_workers.py [--size 4000] [--latency 0.3] [--rounds 1]`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    free_port,
    run_child,
    verdict,
    workdir,
    write_result,
)

# the harvester's default of one request at a time per host, without its delay (a delay
# above 0 is kept: Scrapy 2.19 starts every request queued for a host at once when the
# delay is 0, whatever CONCURRENT_REQUESTS_PER_DOMAIN says)
POLITE = ["-s", "DOWNLOAD_DELAY=0.01", "-s", "DOWNLOAD_DELAY_JITTER=0",
          "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
          "-s", "LOG_LEVEL=WARNING"]

SERVER = """
import sys
sys.path.insert(0, {bench!r})
from oai_indexed import IndexedRepository
from oai_lookalike import LookalikeServer

repo = IndexedRepository(page_size=100)
repo.add({size}, spread=5)
repo.index()
repo.latency = {latency}
with LookalikeServer(repo) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
        for _ in range(200):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        client.close()
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def harvest(url: str, tmp: Path, size: int, *extra: str) -> float:
    child = run_child([PYTHON, "-m", "harvester.cli", "harvest", "oai", "--endpoint", url,
                       "--name", "bench", "--store", str(tmp / "store"), *POLITE,
                       "-s", "HARVESTER_PROGRESS=off", *extra],
                      env={"HARVESTER_SPOOL_DIR": str(tmp / "spool")})
    assert child.code == 0, child.stderr[-3000:]
    stored = len(list((tmp / "store" / "records" / "bench").glob("*.json")))
    assert stored == size, stored
    return child.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    code = SERVER.format(bench=str(ROOT / "bench"), size=args.size, latency=args.latency)
    server = subprocess.Popen([PYTHON, "-c", code],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    cases = {"one_process": (), "two_workers_one_chain": ("--workers", "2", "-s",
                                                          "HARVESTER_OAI_WINDOWS=1"),
             "two_workers_split": ("--workers", "2")}
    best = {name: float("inf") for name in cases}
    try:
        for _ in range(args.rounds):
            for name, extra in cases.items():
                with workdir(f"oai-{name}") as tmp:
                    if extra:
                        with redis_server(tmp) as redis_url:
                            seconds = harvest(url, tmp, args.size, "--redis", redis_url, *extra)
                    else:
                        seconds = harvest(url, tmp, args.size)
                best[name] = min(best[name], seconds)
                print(f"{name}: {args.size / seconds:.1f} records/s ({seconds:.1f} s)",
                      flush=True)
    finally:
        server.stdin.close()
        server.wait(30)
    row: dict[str, float | int] = {"records": args.size, "latency_s": args.latency}
    for name, seconds in best.items():
        row[f"{name}_rps"] = round(args.size / seconds, 1)
    row["one_chain_ratio"] = round(best["one_process"] / best["two_workers_one_chain"], 2)
    row["split_ratio"] = round(best["one_process"] / best["two_workers_split"], 2)
    ok = row["split_ratio"] > row["one_chain_ratio"]
    print(f"two workers, one chain: {row['one_chain_ratio']}x one process; two workers, split "
          f"by window: {row['split_ratio']}x ({verdict(ok)}: split > one chain)")
    write_result("oai_workers", [row])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
