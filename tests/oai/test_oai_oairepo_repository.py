"""The source against a second OAI-PMH repository no one on the team wrote (oai-repo 0.5.2's
OAIRepository): a backfill stores every record once with its fields; 30 new and 10 edited
records are picked up by one incremental run with a handful of requests and no other
record rewritten; an idle run costs one list request; with deletedRecord "no", two complete
backfills withdraw a record oai-repo stops listing; one set holds exactly that set; SIGKILL
twice during a 1,000-record backfill, then a run that completes it, nothing twice.

Deleted records: oai-repo 0.5.2 cannot say a record is deleted. Its ListRecords,
ListIdentifiers and GetRecord leave out a record whose metadata is None (what its
DataInterface documents for "no metadata"; getrecord.add_records skips it), and add_header
never writes status="deleted" whatever RecordHeader.status says, although Identify says
deletedRecord "persistent". The harvester never hears of those deletions:
test_deleted_records_become_withdrawn is expected to fail (strict) until oai-repo writes
them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from oai_source_support import HARVESTER, feed, harvest, harvest_args, records, reports, snapshot

pytest.importorskip("oai_repo")
from oairepo_repository import OaiRepoServer, utcnow  # noqa: E402


def _record_ids(root: Path, paths: set[str]) -> set[str]:
    return {json.loads((root / p).read_text("utf-8"))["record_id"] for p in paths}


def test_backfill_stores_every_record_once_with_its_fields(tmp_path: Path) -> None:
    with OaiRepoServer(page_size=25) as repo:
        ids = repo.add(300, sets=["papers:1962"])
        run = harvest(repo.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=4")
        assert run.code == 0, run.stderr[-3000:]
        lists = repo.list_requests
    assert not repo.failures
    got = records(tmp_path)
    assert sorted(got) == sorted(ids)
    assert len(lists) <= 4 + 300 // 25 + 4
    assert all("T" in r["from"] for r in lists if "from" in r)  # seconds granularity
    one = got[ids[6]]
    assert one["title"] == "Paper 7" and one["authors"] == ["Writer, W."]
    assert one["date"] == "1962-10-16" and one["languages"] == ["en"]
    assert one["url"] == "https://oairepo.test/item/7"
    assert one["oai_sets"] == ["papers:1962"] and one["status"] == "active"
    assert one["oai_datestamp"] == repo.entries[ids[6]].datestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "<dc:title>Paper 7</dc:title>" in one["oai_metadata"]["oai_dc"]
    [report] = reports(tmp_path)
    assert report["counts"]["new"] == 300 and report["mode"] == "backfill"
    lines = feed(tmp_path, report["run_id"])
    assert sorted(line["record_id"] for line in lines) == sorted(ids)  # each once


def test_one_incremental_run_with_every_change_then_an_idle_run(tmp_path: Path) -> None:
    with OaiRepoServer(page_size=25) as repo:
        ids = repo.add(300, sets=["papers:1962"])
        run = harvest(repo.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=4")
        assert run.code == 0, run.stderr[-3000:]
        time.sleep(1.1)  # the real clock: changes one second after the backfill
        before = snapshot(tmp_path, "records")
        now = utcnow()
        new = repo.add(30, at=now, sets=["papers:1962"], spread=0)
        edited, deleted = ids[:10], ids[100:105]
        for rid in edited:
            repo.edit(rid, repo.entries[rid].title + " (revised)", at=now)
        for rid in deleted:  # what oai-repo makes of them: test_deleted_records_become_withdrawn
            repo.delete(rid, at=now)
        time.sleep(2.1)  # the next walk's from (its responseDate, one second back) is later
        repo.requests.clear()
        run = harvest(repo.url, str(tmp_path))
        assert run.code == 0, run.stderr[-3000:]
        assert len(repo.requests) <= 2 + 45 // 25  # a handful: the changes' pages only
        assert "Identify" not in [r["verb"] for r in repo.requests]
        got = records(tmp_path)
        assert sorted(got) == sorted(ids + new)
        assert all(got[rid]["title"].endswith("(revised)") for rid in edited)
        assert all(got[rid]["title"] == f"Paper {rid.rsplit(':', 1)[1]}" for rid in new)
        lines = feed(tmp_path, reports(tmp_path)[-1]["run_id"])
        assert sorted(line["change"] for line in lines if line["record_id"] not in deleted) \
            == sorted(["new"] * 30 + ["changed"] * 10)
        after = snapshot(tmp_path, "records")
        rewritten = _record_ids(tmp_path, {k for k in before if after.get(k) != before[k]})
        assert set(edited) <= rewritten <= set(edited + deleted)  # nothing else rewritten
        repo.requests.clear()
        idle = harvest(repo.url, str(tmp_path))
        assert idle.code == 0, idle.stderr[-3000:]
        assert [r["verb"] for r in repo.requests] == ["ListRecords"]
        assert feed(tmp_path, reports(tmp_path)[-1]["run_id"]) == []
    assert not repo.failures


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="oai-repo 0.5.2 leaves deleted records out of ListRecords (no "
                          "status=\"deleted\" header is ever written): the harvester never "
                          "hears of the deletion")
def test_deleted_records_become_withdrawn(tmp_path: Path) -> None:
    with OaiRepoServer(page_size=10) as repo:
        ids = repo.add(20)
        run = harvest(repo.url, str(tmp_path))
        assert run.code == 0, run.stderr[-3000:]
        time.sleep(1.1)
        for rid in ids[5:10]:
            repo.delete(rid)
        time.sleep(2.1)
        run = harvest(repo.url, str(tmp_path))
        assert run.code == 0, run.stderr[-3000:]  # not the failure expected: a clean run
    got = records(tmp_path)
    assert sorted(got) == sorted(ids)
    assert sorted(r for r, rec in got.items() if rec["status"] == "withdrawn") == \
        sorted(ids[5:10])
    assert got[ids[5]]["title"] == "Paper 6"  # content kept
    lines = feed(tmp_path, reports(tmp_path)[-1]["run_id"])
    assert sorted(line["change"] for line in lines) == ["withdrawn"] * 5


def test_deleted_record_no_two_backfills_withdraw_what_oai_repo_stops_listing(
        tmp_path: Path) -> None:
    """deletedRecord "no": a complete backfill asks GetRecord for the stored records it did
    not meet; oai-repo answers an empty <GetRecord/> (no record, no error), taken as a 404
    that the next complete backfill confirms."""
    with OaiRepoServer(page_size=10, deleted_record="no") as repo:
        ids = repo.add(12)
        run = harvest(repo.url, str(tmp_path), "--mode", "backfill")
        assert run.code == 0, run.stderr[-3000:]
        time.sleep(1.1)
        repo.delete(ids[3])
        for attempt in range(2):
            repo.requests.clear()
            run = harvest(repo.url, str(tmp_path), "--mode", "backfill")
            assert run.code == 0, run.stderr[-3000:]
            assert [r["identifier"] for r in repo.requests if r["verb"] == "GetRecord"] == \
                [ids[3]]
            got = records(tmp_path)
            assert got[ids[3]]["status"] == ("active" if attempt == 0 else "withdrawn")
    assert got[ids[3]]["title"] == "Paper 4"  # content kept
    assert [rid for rid, rec in got.items() if rec["status"] == "withdrawn"] == [ids[3]]
    lines = feed(tmp_path, reports(tmp_path)[-1]["run_id"])
    assert [(line["change"], line["record_id"]) for line in lines] == [("withdrawn", ids[3])]


def test_one_set_of_an_oai_repo_repository(tmp_path: Path) -> None:
    with OaiRepoServer(page_size=7) as repo:
        repo.add(20, sets=["a"])
        b = repo.add(16, sets=["b:x"])
        repo.add(5, sets=["bb"])  # a prefix of the spec's text, not of the hierarchy
        run = harvest(repo.url, str(tmp_path), "--set", "b")
        assert run.code == 0, run.stderr[-3000:]
        assert all(r.get("set") == "b" for r in repo.list_requests if "resumptionToken" not in r)
    assert sorted(records(tmp_path)) == sorted(b)
    assert all(rec["oai_sets"] == ["b:x"] for rec in records(tmp_path).values())


def _resume_cursor(store: Path) -> object:
    try:
        return json.loads((store / "state" / "look" / "backfill.json").read_text()).get("resume")
    except (OSError, ValueError):
        return None


def _run_and_kill(repo: OaiRepoServer, store: Path, hold_at: int) -> None:
    """Start a backfill, hold list request number `hold_at` at the server, SIGKILL the
    harvester once the page before it is checkpointed (as test_oai_resume.py does)."""
    repo.hold_at, before = hold_at, _resume_cursor(store)
    repo.release.clear()
    env = dict(os.environ, HARVESTER_SPOOL_DIR=str(store.parent / "spool"))
    proc = subprocess.Popen([*HARVESTER, *harvest_args(repo.url, str(store)), "--mode",
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


def test_sigkill_twice_during_a_backfill_then_a_run_that_completes_it(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with OaiRepoServer(page_size=50) as repo:
        ids = repo.add(1000, spread=5)  # 20 pages in one window
        _run_and_kill(repo, store, hold_at=6)
        first = [r for r in repo.list_requests if not r.get("held")]
        assert len(first) == 5
        stored_once = set(records(store))
        assert len(stored_once) >= 150
        repo.requests.clear()
        _run_and_kill(repo, store, hold_at=6)  # resumes at the checkpoint: an oai-repo token
        second = [r for r in repo.list_requests if not r.get("held")]
        assert repo.requests[0]["verb"] == "ListRecords"  # no Identify: the campaign resumes
        assert "resumptionToken" in second[0]
        assert len(records(store)) > len(stored_once)
        repo.requests.clear()
        env = dict(os.environ, HARVESTER_SPOOL_DIR=str(tmp_path / "spool"))
        proc = subprocess.run([*HARVESTER, *harvest_args(repo.url, str(store)), "--mode",
                               "backfill", "-s", "HARVESTER_OAI_WINDOWS=1"],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        third = repo.list_requests
    assert not repo.failures
    assert sorted(records(store)) == sorted(ids)
    assert len(first) + len(second) + len(third) <= 20 + 2 * 3  # resumed, not walked again
    lines = [line for report in reports(store) for line in feed(store, report["run_id"])]
    news = [line["record_id"] for line in lines if line["change"] == "new"]
    assert sorted(news) == sorted(ids)  # nothing stored twice
    assert not [line for line in lines if line["change"] != "new"]
    campaign = json.loads((store / "state" / "look" / "backfill.json").read_text())
    assert campaign["status"] == "complete"
