"""The source against an OAI-PMH repository no one on the team wrote (pyoai's server): a
backfill stores every record once; 30 new, 10 edited and 5 deleted records are picked up
by one incremental run with a handful of requests and no other record rewritten; an idle
run costs one list request; one set holds exactly that set."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from oai_source_support import feed, harvest, records, reports, snapshot

pytest.importorskip("oaipmh.server")
from pyoai_repository import PyoaiServer, utcnow  # noqa: E402


def test_backfill_then_one_incremental_run_with_every_change(tmp_path: Path) -> None:
    with PyoaiServer(batch_size=25) as repo:
        ids = repo.add(300, sets=["papers:1962"])
        run = harvest(repo.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=4")
        assert run.code == 0, run.stderr[-3000:]
        assert sorted(records(tmp_path)) == sorted(ids)
        backfill_lists = sum(r["verb"] == "ListRecords" for r in repo.requests)
        assert backfill_lists <= 4 + 300 // 25 + 4
        time.sleep(1.1)  # the real clock: changes one second after the backfill
        before = snapshot(tmp_path, "records")
        now = utcnow()
        new = repo.add(30, at=now, sets=["papers:1962"], spread=0)
        for rid in ids[:10]:
            entry = repo.provider.entries[rid]
            entry.title, entry.datestamp = entry.title + " (revised)", now
        for rid in ids[100:105]:
            repo.provider.entries[rid].deleted = True
            repo.provider.entries[rid].datestamp = now
        time.sleep(2.1)  # the next walk's from (its responseDate, one second back) is later
        repo.requests.clear()
        run = harvest(repo.url, str(tmp_path))
        assert run.code == 0, run.stderr[-3000:]
        assert len(repo.requests) <= 2 + 45 // 25  # a handful: the changes' pages only
        got = records(tmp_path)
        assert sorted(got) == sorted(ids + new)
        assert all(got[rid]["title"].endswith("(revised)") for rid in ids[:10])
        assert sorted(r for r, rec in got.items() if rec["status"] == "withdrawn") == \
            sorted(ids[100:105])
        lines = feed(tmp_path, reports(tmp_path)[-1]["run_id"])
        assert sorted(line["change"] for line in lines) == sorted(
            ["new"] * 30 + ["changed"] * 10 + ["withdrawn"] * 5)
        after = snapshot(tmp_path, "records")
        rewritten = {k for k in before if after.get(k) != before[k]}
        assert len(rewritten) == 15  # the edited and the deleted, nothing else
        repo.requests.clear()
        idle = harvest(repo.url, str(tmp_path))
        assert idle.code == 0, idle.stderr[-3000:]
        assert [r["verb"] for r in repo.requests] == ["ListRecords"]


def test_one_set_of_a_pyoai_repository(tmp_path: Path) -> None:
    with PyoaiServer(batch_size=7) as repo:
        repo.add(20, sets=["a"])
        b = repo.add(16, sets=["b:x"])
        run = harvest(repo.url, str(tmp_path), "--set", "b")
        assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(b)
