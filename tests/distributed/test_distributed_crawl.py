"""Workers of the real CLI share a crawl in a real redis-server and harvest the sample archive.

- three workers store every record of a 500-document archive exactly once, with page
  fetches within a few percent of one process's;
- the next run starts a new crawl (the last crawl's seen-set does not block it);
- a worker SIGKILLed mid-run loses nothing: the others find it dead, queue the requests it
  held again and complete the store; the next run finds nothing left to do.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from distributed_support import (
    campaign,
    changes_counter,
    explain_missing,
    page_fetches,
    record_ids,
    reports,
    start,
    start_workers,
    versions,
    wait_all,
    worker_cmd,
)

from harvester.sample import SampleControl, serve_subprocess

pytestmark = pytest.mark.slow


@dataclass
class SharedRun:
    store: Path
    logs: Path
    codes: list[int]
    expected: list[str]
    fetches: dict[str, Any]  # the sample server's stats of the three-worker run
    single_fetches: dict[str, Any]  # ... of a one-process run of the same archive
    redis_url: str
    base_url: str
    control: SampleControl
    tails: list[str]


@pytest.fixture(scope="module")
def archive500() -> Iterator[tuple[str, SampleControl]]:
    with serve_subprocess(size=500) as served:
        yield served


@pytest.fixture(scope="module")
def shared_run(archive500: tuple[str, SampleControl], redis_server: str,
               tmp_path_factory: pytest.TempPathFactory) -> SharedRun:
    base_url, control = archive500
    root = tmp_path_factory.mktemp("shared")
    redis_url = f"{redis_server}/1"
    redis.Redis.from_url(redis_url).flushdb()
    expected = sorted(control.archive().record_ids())

    control.reset_stats()
    single = start(worker_cmd(root / "single", base_url, None), root / "single.log")
    assert single.wait() == 0, single.tail()
    single_fetches = control.stats()

    control.reset_stats()
    # no worker dies here: a long timeout, so a worker stalled on a loaded machine is not
    # taken for dead (which would refetch its pages and count as reaped)
    workers = start_workers(3, root / "store", base_url, redis_url, root / "logs",
                            "-s", "HARVESTER_REDIS_WORKER_TIMEOUT=60")
    codes = wait_all(workers)
    return SharedRun(root / "store", root / "logs", codes, expected, control.stats(),
                     single_fetches, redis_url, base_url, control, [w.tail() for w in workers])


def test_every_worker_finishes(shared_run: SharedRun) -> None:
    assert shared_run.codes == [0, 0, 0], "\n\n".join(shared_run.tails)
    finished = [r for r in reports(shared_run.store) if r["status"] == "finished"]
    assert len(finished) == 3
    # the work was shared: more than one worker fetched documents
    assert sum(1 for r in finished if r["requests"]["document"] > 0) >= 2


def test_every_record_stored_exactly_once(shared_run: SharedRun) -> None:
    assert record_ids(shared_run.store) == shared_run.expected
    assert versions(shared_run.store) == []  # no record was written twice as "changed"
    feeds = changes_counter(shared_run.store)
    assert sorted(feeds) == shared_run.expected
    assert set(feeds.values()) == {1}  # each record in exactly one worker's changes feed
    new = sum(r["counts"]["new"] for r in reports(shared_run.store))
    assert new == len(shared_run.expected)
    assert campaign(shared_run.store)["status"] == "complete"


def test_page_fetches_match_one_process(shared_run: SharedRun) -> None:
    one, three = page_fetches(shared_run.single_fetches), page_fetches(shared_run.fetches)
    assert one >= 505  # 500 documents and 5 listing pages (100 a page)
    assert abs(three - one) <= 0.03 * one, (one, three, shared_run.fetches["by_kind"])
    by_path = shared_run.fetches["by_path"]
    documents = [p for p in by_path if p.startswith("/document/")]
    assert all(by_path[p] == 1 for p in documents)  # no document page fetched twice


def test_the_done_crawl_releases_the_site(shared_run: SharedRun) -> None:
    client = redis.Redis.from_url(shared_run.redis_url)
    assert client.get("harvester:wilson:crawl") is None  # no running crawl is left
    infos = [k for k in client.scan_iter("harvester:wilson:*:info")]
    assert len(infos) == 1
    info = client.hgetall(infos[0])
    assert info[b"reaped"] == info[b"requeued"] == b"0"
    assert b"done" in info and info[b"mode"] == b"backfill"
    assert list(client.scan_iter("harvester:wilson:*:inflight:*")) == []  # no claim left
    assert 0 < client.ttl(infos[0]) <= 3600  # kept a while for inspection, then gone


def test_next_run_starts_a_new_crawl(shared_run: SharedRun) -> None:
    """The last crawl's seen-set does not block the next run: it fetches the listing's first
    page again, finds it known and stops (incremental), with nothing to store."""
    shared_run.control.reset_stats()
    worker = start(worker_cmd(shared_run.store, shared_run.base_url, shared_run.redis_url),
                   shared_run.logs / "next.log")
    assert worker.wait() == 0, worker.tail()
    assert shared_run.control.stats()["by_kind"].get("listing") == 1
    latest = sorted(reports(shared_run.store), key=lambda r: r["run_id"])[-1]
    assert latest["mode"] == "incremental" and latest["counts"]["new"] == 0


@pytest.fixture
def archive200() -> Iterator[tuple[str, SampleControl]]:
    with serve_subprocess(size=200) as served:
        yield served


def _busy_pids(client: redis.Redis) -> list[int]:
    pids = []
    for key in client.scan_iter("harvester:wilson:*:busy"):
        for member in client.zrange(key, 0, -1):
            pids.append(int(member.decode().split(":")[1]))
    return pids


def test_killed_worker_loses_nothing(archive200: tuple[str, SampleControl], redis_url: str,
                                     tmp_path: Path) -> None:
    base_url, control = archive200
    expected = sorted(control.archive().record_ids())
    # a third of the documents answer slowly once: a busy worker holds requests in flight
    control.set_faults({"slow": {"rate": 0.3, "delay": 1.0, "paths": "document"}})
    store, client = tmp_path / "store", redis.Redis.from_url(redis_url)
    no_files = ("-s", "HARVESTER_DOWNLOAD_FILES=False")  # pages are what matters here
    workers = start_workers(3, store, base_url, redis_url, tmp_path / "logs", *no_files)
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline:
        time.sleep(0.1)
        if len(record_ids(store)) >= 40:
            busy = [w for w in workers if w.proc.pid in _busy_pids(client)]
            victim = busy[0] if busy else None
    assert victim is not None, "no worker was busy after 40 records"
    os.kill(victim.proc.pid, signal.SIGKILL)
    survivors = [w for w in workers if w is not victim]
    assert wait_all(survivors) == [0, 0], "\n\n".join(w.tail() for w in survivors)
    assert victim.wait() == -signal.SIGKILL

    # the survivors reaped the dead worker, did what it held and completed the store
    info = client.hgetall(next(iter(client.scan_iter("harvester:wilson:*:info"))))
    assert int(info[b"reaped"]) == 1 and int(info[b"requeued"]) >= 1
    by_path = control.stats()["by_path"]
    assert record_ids(store) == expected, explain_missing(
        store, expected, by_path, sorted((tmp_path / "logs").glob("*.log")))
    assert versions(store) == []
    assert campaign(store)["status"] == "complete"
    # pages fetched twice: only some of those the dead worker held (it may have fetched them)
    twice = [p for p in by_path if p.startswith(("/document/", "/search")) and by_path[p] > 1]
    assert len(twice) <= int(info[b"requeued"])

    # the next run has nothing left to do, and recovers the killed run's changes feed
    control.clear_faults()
    control.reset_stats()
    rerun = start_workers(2, store, base_url, redis_url, tmp_path / "rerun", *no_files,
                          "-s", "HARVESTER_STALE_RUN_SECONDS=3")
    assert wait_all(rerun) == [0, 0], "\n\n".join(w.tail() for w in rerun)
    assert control.stats()["by_kind"].get("document", 0) == 0
    latest = sorted(reports(store), key=lambda r: r["run_id"])[-2:]
    assert {r["mode"] for r in latest} == {"incremental"}
    assert sum(r["counts"]["new"] for r in latest) == 0
    assert sorted(changes_counter(store)) == expected
