"""A backfill shared by --redis workers is split by date window (issue 15).

Real redis-server, real worker processes of the CLI, the look-alike repository on loopback.
The repository's request log (with each request's User-Agent: every worker has its own)
shows what each worker asked for:
- three workers take different windows in parallel: every window's first ListRecords
  request is answered once, every resumption token once, each worker begins windows of its
  own (none holds more than it can fetch next), and the store holds each record once;
- a worker SIGKILLed mid-backfill: the page it held goes back to the queue and the other
  worker resumes that window there (at its token, not at the window's start); the store is
  complete with nothing twice, and a rerun has nothing left to do;
- records crowded into one window of the plan (earliestDatestamp long before them): that
  window is split in halves again and again (branches of branches), and the walk still
  ends complete.
The plan itself (windows covering the span, branches of the walk) is checked without
processes at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import redis
from oai_lookalike import LookalikeServer, Repository, _Handler
from oai_source_support import HARVESTER, feed, harvest_args, records, reports

from harvester.distributed.coordinator import CrawlCoordinator, CrawlInfo
from harvester.distributed.keys import CrawlKeys
from harvester.listingwalk import next_step
from harvester.sites.oai import dates
from harvester.sites.oai.source import OaiSource, OaiStep
from harvester.source import FanOut, WalkStart

REDIS_FAST = ["-s", "HARVESTER_REDIS_HEARTBEAT=0.5", "-s", "HARVESTER_REDIS_WORKER_TIMEOUT=4",
              "-s", "HARVESTER_REDIS_IDLE_POLL=0.2"]
_TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


# --- the repository, with a log by worker and a gate for list requests ----------------------
class Gate:
    """What the repository answered, to whom (User-Agent), and a gate: while it is shut,
    list requests wait at it (answered when it opens; never, for a worker marked dead)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = threading.Event()
        self.open.set()
        self.shut_when: Any = None  # shut the gate when this says so of the log
        self.waiting: list[tuple[str, dict[str, str]]] = []  # list requests waiting now
        self.dead: set[str] = set()
        self.answered: list[tuple[str, dict[str, str], str | None]] = []  # agent, params, token

    def arrive(self, agent: str, params: dict[str, str]) -> bool:
        """A request arrives: True when it waits at the gate."""
        if params.get("verb") != "ListRecords":
            return False
        with self.lock:
            if self.shut_when is not None and self.shut_when(self):
                self.open.clear()
                self.shut_when = None
            held = not self.open.is_set()
            if held:
                self.waiting.append((agent, params))
        return held

    def lists_to(self, agent: str | None = None) -> list[dict[str, str]]:
        return [p for a, p, _ in self.answered if p.get("verb") == "ListRecords"
                and (agent is None or a == agent)]


class _GatedHandler(_Handler):
    gate: Gate

    def _oai(self, query: str) -> None:
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        agent, gate = self.headers.get("User-Agent", ""), self.gate
        if gate.arrive(agent, params):
            gate.open.wait(60)
            with gate.lock:
                gate.waiting.remove((agent, params))
        if agent in gate.dead:  # its worker was killed while the request waited
            self.close_connection = True
            return
        status, headers, body = self.repo.answer(params)
        minted = _TOKEN.search(body)
        with gate.lock:
            gate.answered.append((agent, params, minted.group(1).decode() if minted else None))
        self._reply(status, headers, body)


class GatedServer(LookalikeServer):
    def __init__(self, repo: Repository, gate: Gate) -> None:
        handler = type("Handler", (_GatedHandler,), {"repo": repo, "gate": gate})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.repo = repo
        repo.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def gated(repo: Repository, gate: Gate) -> Iterator[GatedServer]:
    with GatedServer(repo, gate) as srv:
        try:
            yield srv
        finally:
            gate.open.set()


# --- worker processes ----------------------------------------------------------------------
def start_worker(endpoint: str, store: Path, redis_url: str, agent: str, logs: Path,
                 *extra: str) -> subprocess.Popen[bytes]:
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HARVESTER_SPOOL_DIR=str(logs / f"spool-{agent}"))
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + \
        env.get("PYTHONPATH", "")
    args = harvest_args(endpoint, str(store), "--redis", redis_url, *REDIS_FAST,
                        "-s", f"USER_AGENT={agent}", *extra)
    with (logs / f"{agent}.log").open("wb") as out:
        return subprocess.Popen([*HARVESTER, *args], stdout=out, stderr=subprocess.STDOUT,
                                env=env)


def tail(logs: Path, agent: str, lines: int = 30) -> str:
    text = (logs / f"{agent}.log").read_text("utf-8", "replace").splitlines()
    return f"--- {agent}\n" + "\n".join(text[-lines:])


def wait_for(what: str, check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def workers_in_crawl(client: redis.Redis) -> int:
    return sum(int(client.zcard(k)) for k in client.scan_iter("harvester:look:*:workers"))


def crawl_info(client: redis.Redis) -> dict[bytes, bytes]:
    return dict(client.hgetall(next(iter(client.scan_iter("harvester:look:*:info")))))


# --- what the store and the log hold ---------------------------------------------------------
def window_starts(gate: Gate) -> list[tuple[str | None, str | None, str | None]]:
    return [(p.get("set"), p.get("from"), p.get("until")) for p in gate.lists_to()
            if "resumptionToken" not in p]


def tokens_asked(gate: Gate) -> list[str]:
    return [p["resumptionToken"] for p in gate.lists_to() if "resumptionToken" in p]


def feed_lines(store: Path) -> list[dict[str, Any]]:
    return [line for report in reports(store) for line in feed(store, report["run_id"])]


def versions(store: Path) -> list[Path]:
    return [p for p in (store / "versions").rglob("*") if p.is_file()]


def campaign(store: Path) -> dict[str, Any]:
    return dict(json.loads((store / "state" / "look" / "backfill.json").read_text()))


def assert_stored_once(store: Path, ids: list[str]) -> None:
    assert sorted(records(store)) == sorted(ids)
    assert versions(store) == []  # no record written twice as changed
    lines = feed_lines(store)
    assert Counter(line["record_id"] for line in lines) == Counter(ids)  # one line each
    assert {line["change"] for line in lines} == {"new"}
    assert campaign(store)["status"] == "complete"


def planned_windows(repo: Repository, windows: int = 16) -> int:
    """How many windows the plan cuts the repository's span into (the last open-ended)."""
    span = -(-int((repo.now - repo.earliest).total_seconds()) // windows)
    return int((repo.now - repo.earliest).total_seconds()) // span + 1


# --- three workers, one backfill, split by window --------------------------------------------
def test_workers_take_different_windows(tmp_path: Path, redis_url: str, repo: Repository,
                                        gate: Gate, gated: GatedServer) -> None:
    repo.page_size = 3
    ids = repo.add(68)  # 68 minutes of records: 17 windows of ~4 records, ~2 pages each
    client = redis.Redis.from_url(redis_url)
    store, logs = tmp_path / "store", tmp_path / "logs"
    agents = ("worker-a", "worker-b", "worker-c")
    gate.open.clear()  # no list page is answered before the workers are all in the crawl
    # a politeness delay, as in production (with none, Scrapy starts every request it holds
    # for a host at once)
    procs = {agent: start_worker(gated.url, store, redis_url, agent, logs,
                                 "-s", "DOWNLOAD_DELAY=0.02", "-s", "DOWNLOAD_DELAY_JITTER=0")
             for agent in agents}
    wait_for("the workers in the crawl", lambda: workers_in_crawl(client) == 3)
    # and each with a window of its own asked for: a worker claims what it can fetch next,
    # so the first two cannot take every window while the third is still starting (on a
    # loaded machine a late worker found none left once the gate opened: the work here is
    # under a second long)
    wait_for("a window's first page asked for by every worker",
             lambda: {a for a, p in list(gate.waiting)
                      if "resumptionToken" not in p} == set(agents))
    time.sleep(0.3)  # and a moment more: no worker claims further windows while it waits
    held = Counter(a for a, p in list(gate.waiting) if "resumptionToken" not in p)
    assert max(held.values()) <= 2, held  # what it can fetch next, not 17 windows at once
    gate.open.set()
    codes = {agent: proc.wait(120) for agent, proc in procs.items()}
    assert set(codes.values()) == {0}, "\n".join(tail(logs, a) for a in procs)

    # every window's first request answered once: no two workers walked the same window
    starts = window_starts(gate)
    assert len(starts) == len(set(starts)) == planned_windows(repo), starts
    assert all(until is None or "T" in until for _, _, until in starts)
    # every resumption token asked once, and every token the repository gave was asked:
    # each window's chain followed to its end by one worker at a time
    asked = tokens_asked(gate)
    minted = [t for _, _, t in gate.answered if t]
    assert len(asked) == len(set(asked)) and sorted(asked) == sorted(minted)
    # the work was shared: each worker began windows of its own
    began = Counter(a for a, p, _ in gate.answered
                    if p.get("verb") == "ListRecords" and "resumptionToken" not in p)
    assert set(began) == set(agents) and sum(began.values()) == len(starts), began
    assert sum(1 for _, p, _ in gate.answered if p.get("verb") == "Identify") == 1
    assert_stored_once(store, ids)
    info = crawl_info(client)
    assert b"done" in info and info[b"listing_exhausted"] == b"1"
    # the campaign keeps Identify's state (the next incremental harvests from its
    # responseDate), whichever worker completed it
    assert campaign(store)["source_state"]["earliest"] == repo.fmt(repo.earliest)


# --- a worker killed mid-backfill ---------------------------------------------------------------
def test_a_killed_worker_s_window_resumes_at_its_page(tmp_path: Path, redis_url: str,
                                                      repo: Repository, gate: Gate,
                                                      gated: GatedServer) -> None:
    repo.page_size = 2
    ids = repo.add(96)  # 17 windows of ~6 records, ~3 pages each
    client = redis.Redis.from_url(redis_url)
    store, logs = tmp_path / "store", tmp_path / "logs"
    gate.open.clear()
    procs = {agent: start_worker(gated.url, store, redis_url, agent, logs)
             for agent in ("worker-a", "worker-b")}
    wait_for("both workers in the crawl", lambda: workers_in_crawl(client) == 2)
    # once every window was begun and a few pages more, list requests wait at the gate:
    # mid-backfill, each worker then waits on pages, those before stored: one is killed
    windows = planned_windows(repo)
    gate.shut_when = lambda g: len(window_starts(g)) == windows and len(g.lists_to()) > 24
    gate.open.set()
    settled: list[tuple[int, int]] = []

    def settled_with_work_held() -> bool:
        with gate.lock:
            settled.append((len(gate.waiting), len(records(store))))
        return not gate.open.is_set() and settled[-1][0] > 0 and len(settled) > 30 \
            and len(set(settled[-30:])) == 1

    wait_for("the workers waiting on list pages", settled_with_work_held)
    victim = Counter(a for a, _ in gate.waiting).most_common(1)[0][0]
    survivor = "worker-b" if victim == "worker-a" else "worker-a"
    held_by_victim = [p for a, p in gate.waiting if a == victim]
    assert 0 < len(records(store)) < len(ids)
    os.kill(procs[victim].pid, signal.SIGKILL)
    assert procs[victim].wait(30) == -signal.SIGKILL
    gate.dead.add(victim)
    gate.open.set()
    assert procs[survivor].wait(120) == 0, tail(logs, survivor)

    # the survivor found the victim dead and did the pages it held, at their tokens
    info = crawl_info(client)
    assert int(info[b"reaped"]) == 1 and int(info[b"requeued"]) >= len(held_by_victim)
    # the page the victim waited on was asked again by the survivor, at its token: its
    # window resumed there, and no window was asked again from its start
    assert all(p in gate.lists_to(survivor) for p in held_by_victim), held_by_victim
    assert any("resumptionToken" in p for p in held_by_victim), held_by_victim
    starts = window_starts(gate)
    assert len(starts) == len(set(starts)) == planned_windows(repo)
    asked = tokens_asked(gate)
    assert len(asked) == len(set(asked))  # no page answered twice
    assert sorted(records(store)) == sorted(ids)
    assert versions(store) == []

    # a rerun: nothing left to do; it finishes the killed run's books (its changes feed)
    gate.answered.clear()
    rerun = start_worker(gated.url, store, redis_url, "worker-c", logs,
                         "-s", "HARVESTER_STALE_RUN_SECONDS=3")
    assert rerun.wait(120) == 0, tail(logs, "worker-c")
    assert [p.get("verb") for p in gate.lists_to()] == ["ListRecords"]  # incremental, idle
    latest = reports(store)[-1]
    assert latest["mode"] == "incremental" and latest["counts"]["new"] == 0
    assert_stored_once(store, ids)


# --- records crowded into one window ---------------------------------------------------------
def test_a_crowded_window_is_split_further(tmp_path: Path, redis_url: str, repo: Repository,
                                            gate: Gate, gated: GatedServer) -> None:
    repo.page_size = 4
    repo.earliest = repo.now - timedelta(days=30)  # the plan's windows are ~45 hours each
    ids = repo.add(40)  # ... and every record is in the last 40 minutes
    client = redis.Redis.from_url(redis_url)
    store, logs = tmp_path / "store", tmp_path / "logs"
    worker = start_worker(gated.url, store, redis_url, "worker-a", logs,
                          "-s", "HARVESTER_OAI_WINDOW_RECORDS=8")  # one worker: the branches
    assert worker.wait(120) == 0, tail(logs, "worker-a")  # nest, and the walk still ends
    starts = window_starts(gate)
    assert len(starts) == len(set(starts)) > planned_windows(repo) + 8  # halves of halves
    asked = tokens_asked(gate)
    assert len(asked) == len(set(asked))
    assert_stored_once(store, ids)  # the pages listed again (halves) stored nothing twice
    assert crawl_info(client)[b"listing_exhausted"] == b"1"


# --- the plan, without processes -------------------------------------------------------------
def _identify(granularity: str, earliest: str, response_date: str) -> OaiStep:
    return OaiStep("identify", skip=True, state={
        "response_date": response_date, "granularity": granularity, "earliest": earliest,
        "deleted_record": "persistent"})


@pytest.mark.parametrize("granularity", [dates.SECONDS, dates.DAY])
def test_a_shared_backfill_is_planned_as_windows_that_cover_the_span(granularity: str) -> None:
    source = OaiSource("look", "http://127.0.0.1:9/oai", sets=("a", "b"), windows=6)
    first = source.start(WalkStart("backfill", shared=True))
    earliest, end = "2020-01-01T00:00:00Z", "2024-03-01T12:00:00Z"
    plan = source.next_cursor(first, _identify(granularity, earliest, end))
    assert isinstance(plan, FanOut)
    for spec in ("a", "b"):
        windows = [c for c in plan.cursors if c["set"] == spec]
        assert 2 <= len(windows) <= 7
        assert windows[0]["from"] is None  # open at its start: older records still come
        assert dates.parse(windows[0]["origin"]) == dates.parse(earliest)
        assert windows[-1]["until"] is None  # open-ended: what changes during the walk
        for before, after in zip(windows, windows[1:], strict=False):  # no gap; in days
            # each window shares its first day with the one before (an until misread)
            gap = dates.parse(after["from"]) - dates.parse(before["until"])  # type: ignore[operator]
            assert gap == (timedelta(0) if granularity == dates.DAY
                           else dates.granule(granularity))
            assert dates.parse(after["until"] or end) >= dates.parse(after["from"])  # type: ignore[operator]
        stamps = [c[k] for c in windows for k in ("from", "until") if c[k]]
        assert all(("T" in s) == (granularity == dates.SECONDS) for s in stamps)
    # each window is a branch: its end is the branch's end, not the next window
    last_page = OaiStep("list", count=3, token=None)
    assert source.next_cursor(plan.cursors[0], last_page) is None
    # a walk of one process is planned as before: one window after another
    alone = source.start(WalkStart("backfill"))
    sequential = source.next_cursor(alone, _identify(granularity, earliest, end))
    assert isinstance(sequential, dict) and sequential["set"] == "a"
    nxt = source.next_cursor(sequential, last_page)
    assert sequential["from"] is None and sequential["until"] is not None
    assert nxt is not None and nxt["until"] > nxt["from"] >= sequential["until"]


def test_a_window_whose_first_page_counts_too_many_records_is_halved() -> None:
    source = OaiSource("look", "http://127.0.0.1:9/oai", windows=16, window_records=10)
    first = source.start(WalkStart("backfill", shared=True))
    plan = source.next_cursor(first, _identify(dates.SECONDS, "2024-01-01T00:00:00Z",
                                               "2024-01-01T00:01:40Z"))  # 100 s: 7 s windows
    assert isinstance(plan, FanOut)
    crowded = OaiStep("list", records=[{"url": "http://x/1"}], count=1, token="t1",
                      complete=50)
    halves = source.next_cursor(plan.cursors[0], crowded)
    assert isinstance(halves, FanOut)
    assert [(c["from"], c["until"]) for c in halves.cursors] == [
        (None, "2024-01-01T00:00:03Z"),  # the first window's first half: still open
        ("2024-01-01T00:00:04Z", "2024-01-01T00:00:06Z")]
    # the open-ended window: what lies before the walk's end in halves, and what after it
    last = plan.cursors[-1]
    assert (last["from"], last["until"]) == ("2024-01-01T00:01:38Z", None)
    opened = source.next_cursor(last, crowded)
    assert isinstance(opened, FanOut)
    assert [(c["from"], c["until"]) for c in opened.cursors] == [
        ("2024-01-01T00:01:38Z", "2024-01-01T00:01:39Z"),
        ("2024-01-01T00:01:40Z", "2024-01-01T00:01:40Z"), ("2024-01-01T00:01:41Z", None)]
    # one granule cannot be halved, nor a window past its first page, nor a small one
    one = dict(halves.cursors[0], **{"from": "2024-01-01T00:00:03Z"})
    one_more = OaiStep("list", records=[{"url": "http://x/1"}], count=1, token="t2",
                       complete=50)
    assert source.next_cursor(dict(one, until="2024-01-01T00:00:03Z"), one_more)["token"] == "t2"
    few = OaiStep("list", records=[{"url": "http://x/1"}], count=1, token="t3", complete=10)
    walked_on = source.next_cursor(plan.cursors[0], few)
    assert walked_on["token"] == "t3" and walked_on["pages"] == 1
    assert source.next_cursor(walked_on, crowded)["token"] == "t1"
    # a walk of one process never splits a window
    alone = source.next_cursor(source.start(WalkStart("backfill")), _identify(
        dates.SECONDS, "2024-01-01T00:00:00Z", "2024-01-01T00:01:40Z"))
    assert source.next_cursor(alone, crowded)["token"] == "t1"


def test_the_branches_of_a_split_carry_the_walk_s_state() -> None:
    identify = _identify(dates.SECONDS, "2024-01-01T00:00:00Z", "2024-03-01T12:00:00Z")
    split = FanOut(({"w": 0}, {"w": 1}))
    step = next_step({"verb": "Identify"}, identify, 0, {}, first=True, following=split)
    branches = step.following()
    assert [c for c, _ in branches] == [{"w": 0}, {"w": 1}]
    assert [carry["branch"] for _, carry in branches] == ["0", "1"]
    # a worker that reads only a window's pages keeps Identify's state for the next walk
    assert all(carry["state"] == identify.state for _, carry in branches)
    page = OaiStep("list", records=[{"url": "http://x/1"}], state={"response_date": "later"})
    on = next_step({"w": 1}, page, 0, branches[1][1], first=False, following={"w": 1, "t": 2})
    assert on.following() == [({"w": 1, "t": 2}, on.carry)]
    assert on.carry["branch"] == "1" and on.carry["state"] == identify.state


def test_the_walk_ends_when_every_branch_stopped(redis_url: str) -> None:
    coordinator = CrawlCoordinator(redis.Redis.from_url(redis_url), CrawlKeys("t", "look"),
                                   worker_id="a")
    coordinator.join()
    assert coordinator.info().open_branches == ("",)  # the walk before any split
    for branch in ("0", "1"):
        coordinator.branch_planned(branch)
    coordinator.branch_stopped("")  # Identify split the walk
    coordinator.branch_stopped("0")
    assert coordinator.info().open_branches == ("1",)
    coordinator.branch_stopped("1")
    coordinator.branch_planned("1")  # Identify read again (a killed worker's): no harm
    assert coordinator.info().open_branches == ()
    assert CrawlInfo().open_branches == ("",)


def test_day_windows_share_their_boundary_day_and_two_days_are_cut_in_two() -> None:
    source = OaiSource("look", "http://127.0.0.1:9/oai", windows=4, window_records=10)
    first = source.start(WalkStart("backfill", shared=True))
    plan = source.next_cursor(first, _identify(dates.DAY, "2024-01-01", "2024-01-17"))
    assert isinstance(plan, FanOut)
    bounds = [(c["from"], c["until"]) for c in plan.cursors]
    assert bounds[0][0] is None and bounds[-1][1] is None
    for (_, until), (start, _) in zip(bounds, bounds[1:], strict=False):
        assert start == until  # the day they share is asked for in both
    crowded = OaiStep("list", records=[{"url": "http://x/1"}], count=1, token="t1",
                      complete=50)
    week = dict(plan.cursors[1], **{"from": "2024-01-05", "until": "2024-01-09"})
    halves = source.next_cursor(week, crowded)
    assert isinstance(halves, FanOut)
    assert [(c["from"], c["until"]) for c in halves.cursors] == [
        ("2024-01-05", "2024-01-07"), ("2024-01-07", "2024-01-09")]
    two = dict(week, **{"from": "2024-01-05", "until": "2024-01-06"})
    cut = source.next_cursor(two, crowded)
    assert isinstance(cut, FanOut)  # sharing a day would not make a smaller window
    assert [(c["from"], c["until"]) for c in cut.cursors] == [
        ("2024-01-05", "2024-01-05"), ("2024-01-06", "2024-01-06")]
