"""The source against a third OAI-PMH repository no one on the team wrote, django-oai-pmh 0.3.9
(a Django app over sqlite, in a subprocess: django_repository.py). It refuses an `until`
without `from`, its token pages drop the set and list from the window's `until` on: a default
backfill still stores every active record once with its fields, a harvest of one set holds
exactly that set (hierarchical), one incremental run picks up 30 new, 10 edited and 5
deleted records with a handful of list requests and no other record rewritten, and an idle
run after it lists once and writes nothing. With the `until` refusal patched out, the date
windows reach the token pages: their drift loses no record, and a set's holds that set."""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oai_source_support import feed, harvest, records, reports, snapshot

if importlib.util.find_spec("django_oai_pmh") is None:
    pytest.skip("django-oai-pmh is not installed", allow_module_level=True)
from django_repository import BULK_SECOND, EARLIEST, DjangoRepository  # noqa: E402

LIST_VERBS = ("ListRecords", "ListIdentifiers")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DjangoRepository]:
    with DjangoRepository(tmp_path_factory.mktemp("django-oai"), records=450,
                          page_size=50) as server:
        yield server


@pytest.fixture(scope="module")
def backfill(repo: DjangoRepository, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One default backfill (no HARVESTER_OAI_WINDOWS): the store tests 3 and 4 go on with."""
    store = tmp_path_factory.mktemp("backfill-store")
    repo.clear_requests()
    run = harvest(repo.url, str(store), "--mode", "backfill")
    return {"store": store, "run": run, "requests": repo.requests()}


def _lists(requests: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in requests if r.get("verb") in LIST_VERBS]


def _rewritten(store: Path, before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {json.loads((store / p).read_text("utf-8"))["record_id"]
            for p in before if after.get(p) != before[p]}


def test_a_default_backfill_stores_every_active_record_once_with_its_fields(
        repo: DjangoRepository, backfill: dict[str, Any]) -> None:
    run, store = backfill["run"], backfill["store"]
    assert run.code == 0, run.stderr[-3000:]
    truth = repo.truth()
    active = {i for i, t in truth.items() if not t.deleted}
    # what makes this repository a test of the harvester, not of the fixture
    assert any(t.datestamp < EARLIEST for i, t in truth.items() if i in active)
    assert sum(t.datestamp == BULK_SECOND.replace(" ", "T") + "Z"
               for i, t in truth.items() if i in active) >= 20
    assert repo.deleted()
    got = records(store)
    assert sorted(got) == sorted(active)  # every active record, no deleted one, nothing else
    for rid in active:
        rec, t = got[rid], truth[rid]
        assert rec["status"] == "active", rid
        assert rec["title"] == t.title, rid
        assert rec["authors"] == t.creators, rid
        assert rec["subjects"] == t.subjects, rid
        assert rec["oai_datestamp"] == t.datestamp, rid
        assert sorted(rec["oai_sets"] or []) == t.sets, rid
    [report] = reports(store)
    assert report["counts"]["new"] == len(active)
    lines = feed(store, report["run_id"])
    assert sorted(line["record_id"] for line in lines) == sorted(active)  # each once
    # the repository refused the first window (an until without from): read as one list
    lists = _lists(backfill["requests"])
    assert any("until" in r and "from" not in r for r in lists), lists[:5]
    assert "one list, without date windows" in run.stderr


def test_one_set_holds_exactly_that_sets_active_records(repo: DjangoRepository,
                                                         tmp_path: Path) -> None:
    repo.clear_requests()
    run = harvest(repo.url, str(tmp_path), "--set", "coll:maps")
    assert run.code == 0, run.stderr[-3000:]
    truth = repo.truth()
    expected = repo.active("coll:maps")
    city = repo.active("coll:maps:city")
    assert city and city <= expected  # the subset's records belong to it too
    got = records(tmp_path)
    assert sorted(got) == sorted(expected)
    assert all("coll:maps" in rec["oai_sets"] for rec in got.values())
    assert all(got[rid]["title"] == truth[rid].title for rid in expected)
    # its token pages dropped the set: they listed other sets' records, which were not stored
    assert any("resumptionToken" in r for r in _lists(repo.requests()))
    [report] = reports(tmp_path)
    assert report["stats"].get("listing/records_outside", 0) > 0
    assert report["counts"]["new"] == len(expected)


def test_one_incremental_run_with_30_new_10_edited_5_deleted(
        repo: DjangoRepository, backfill: dict[str, Any]) -> None:
    store = backfill["store"]
    assert backfill["run"].code == 0
    time.sleep(1.1)  # the real clock: changes a second after the backfill's responseDate
    before = snapshot(store, "records")
    changes = repo.mutate("a", add=30, edit=10, delete=5)
    new, edited, deleted = changes["added"], changes["edited"], changes["deleted"]
    assert (len(new), len(edited), len(deleted)) == (30, 10, 5)
    time.sleep(2.1)  # the next run's from (its responseDate, one second back) is later
    run = harvest(repo.url, str(store))
    assert run.code == 0, run.stderr[-3000:]
    [*_, report] = reports(store)
    assert report["mode"] == "incremental"
    assert report["requests"]["listing"] <= 3
    truth = repo.truth()
    got = records(store)
    assert sorted(got) == sorted(repo.active() | set(deleted))
    for rid in new:
        assert got[rid]["status"] == "active"
        assert got[rid]["title"] == truth[rid].title
        assert got[rid]["oai_datestamp"] == truth[rid].datestamp
        assert sorted(got[rid]["oai_sets"] or []) == truth[rid].sets
    for rid in edited:
        assert got[rid]["title"] == truth[rid].title and "(edited a)" in got[rid]["title"]
        assert got[rid]["oai_datestamp"] == truth[rid].datestamp
    assert sorted(r for r, rec in got.items() if rec["status"] == "withdrawn") == sorted(deleted)
    lines = feed(store, report["run_id"])
    assert sorted((line["change"], line["record_id"]) for line in lines) == sorted(
        [("new", r) for r in new] + [("changed", r) for r in edited]
        + [("withdrawn", r) for r in deleted])
    after = snapshot(store, "records")
    assert _rewritten(store, before, after) == set(edited) | set(deleted)  # nothing else


def test_an_idle_incremental_run_lists_once_and_rewrites_nothing(
        repo: DjangoRepository, backfill: dict[str, Any]) -> None:
    store = backfill["store"]
    assert backfill["run"].code == 0
    before = snapshot(store, "records")
    repo.clear_requests()
    run = harvest(repo.url, str(store))
    assert run.code == 0, run.stderr[-3000:]
    [*_, report] = reports(store)
    assert report["mode"] == "incremental"
    assert report["requests"]["listing"] <= 2
    assert len(_lists(repo.requests())) <= 2
    assert feed(store, report["run_id"]) == []
    assert snapshot(store, "records") == before



@pytest.fixture(scope="module")
def patched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DjangoRepository]:
    """The package with its `until` refusal fixed (as a deployment might patch it): the
    harvest's date windows then reach its token pages (10 records a page)."""
    with DjangoRepository(tmp_path_factory.mktemp("django-oai-patched"), records=450,
                          page_size=10, until_alone=True) as server:
        yield server


def test_windows_whose_token_pages_leave_them_lose_no_record(patched: DjangoRepository,
                                                             tmp_path: Path) -> None:
    """Token pages that list from the window's `until` on: a record datestamped after the
    window is the sign, the repository is read again as one list, every active record
    comes, once."""
    patched.clear_requests()
    run = harvest(patched.url, str(tmp_path), "--mode", "backfill")
    assert run.code == 0, run.stderr[-3000:]
    lists = _lists(patched.requests())
    windowed = [r for r in lists if "until" in r]
    assert windowed and "resumptionToken" in lists[lists.index(windowed[0]) + 1]
    assert "reading the repository as one list, without date windows" in run.stderr
    active = patched.active()
    assert sorted(records(tmp_path)) == sorted(active)
    [report] = reports(tmp_path)
    assert report["counts"]["new"] == len(active)


def test_one_set_through_windows_whose_token_pages_drop_it(patched: DjangoRepository,
                                                            tmp_path: Path) -> None:
    """A set's windows answered, their token pages listing the whole repository (set
    dropped) from the window's `until` on: exactly the set's active records, every one."""
    run = harvest(patched.url, str(tmp_path), "--set", "coll:maps", "--mode", "backfill")
    assert run.code == 0, run.stderr[-3000:]
    expected = patched.active("coll:maps")
    got = records(tmp_path)
    assert sorted(got) == sorted(expected)
    assert all("coll:maps" in rec["oai_sets"] for rec in got.values())
