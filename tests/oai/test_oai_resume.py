"""SIGKILL during an OAI-PMH backfill, twice: each run resumes at the last checkpoint (the
cursor of the last page whose records were all stored), counted on the server's side, and
the third run completes the backfill with nothing stored twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from oai_lookalike import LookalikeServer, Repository
from oai_source_support import HARVESTER, feed, harvest_args, records, reports


def _resume_cursor(store: Path) -> object:
    path = store / "state" / "look" / "backfill.json"
    try:
        return json.loads(path.read_text()).get("resume")
    except (OSError, ValueError):
        return None


def _run_and_kill(endpoint: str, store: Path, repo: Repository, hold_at: int) -> None:
    """Start a backfill, hold the list request number `hold_at` at the server, SIGKILL the
    harvester once the page before it is checkpointed."""
    repo.hold_at, before = hold_at, _resume_cursor(store)
    repo.release.clear()
    env = dict(os.environ, HARVESTER_SPOOL_DIR=str(store.parent / "spool"))
    proc = subprocess.Popen([*HARVESTER, *harvest_args(endpoint, str(store)), "--mode",
                             "backfill", "-s", "HARVESTER_OAI_WINDOWS=1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            held = any(r.get("held") for r in repo.requests)
            cursor = _resume_cursor(store)
            if held and cursor not in (None, before) and isinstance(cursor, dict) \
                    and cursor.get("pages", 0) >= hold_at - 3:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the harvester never reached the held request")
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        repo.hold_at = None
        repo.release.set()


def test_sigkill_twice_then_a_run_that_completes_with_nothing_twice(tmp_path: Path) -> None:
    repo = Repository(page_size=5)
    ids = repo.add(60)  # 12 pages in one window
    store = tmp_path / "store"
    with LookalikeServer(repo) as server:
        _run_and_kill(server.url, store, repo, hold_at=5)
        first = [r for r in repo.list_requests if not r.get("held")]
        assert len(first) == 4
        stored_once = set(records(store))
        assert len(stored_once) >= 15
        # second run: resumes at the checkpoint (a token of the chain), not at the start
        repo.requests.clear()
        _run_and_kill(server.url, store, repo, hold_at=5)
        second = repo.list_requests
        assert repo.requests[0]["verb"] == "ListRecords"  # no Identify: the campaign resumes
        assert "resumptionToken" in second[0]
        assert len(records(store)) > len(stored_once)
        # third run completes it
        repo.requests.clear()
        env = dict(os.environ, HARVESTER_SPOOL_DIR=str(tmp_path / "spool"))
        proc = subprocess.run([*HARVESTER, *harvest_args(server.url, str(store)), "--mode",
                               "backfill", "-s", "HARVESTER_OAI_WINDOWS=1"],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        third = repo.list_requests
    assert sorted(records(store)) == sorted(ids)
    # resumed twice at a checkpoint: far fewer list requests than three whole walks
    assert len(first) + len(second) + len(third) <= 12 + 2 * 3
    # nothing stored twice: one "new" feed line per record, no rewrite
    lines = [line for report in reports(store) for line in feed(store, report["run_id"])]
    news = [line["record_id"] for line in lines if line["change"] == "new"]
    assert sorted(news) == sorted(ids)
    assert not [line for line in lines if line["change"] != "new"]
    campaign = json.loads((store / "state" / "look" / "backfill.json").read_text())
    assert campaign["status"] == "complete"
