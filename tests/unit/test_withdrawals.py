"""The withdrawal check's plain objects (harvester/withdrawals.py): which stored records are
checked, what each answer means, the safety valve, and what a withdrawal writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harvester.record import content_sha256, finalize
from harvester.state import HarvestState
from harvester.withdrawals import (
    CONFIRMED,
    GONE,
    MISSING,
    Candidate,
    WithdrawalCheck,
    apply,
    count_withdrawn,
    outcome,
    plan_checks,
    withdraw,
)
from pipelines.dedup import classify
from pipelines.storage.local import LocalStore

SITE = "wilson"
RUN = "20260101T000000Z-abcdef"
NOW = "2026-01-01T00:00:00Z"


def record(rid: str, **extra: Any) -> dict[str, Any]:
    fields = {"record_id": rid, "node_id": None, "url": f"https://example.org/document/d{rid}",
              "title": f"Document {rid}", "date": None, "date_text": None, "summary": None,
              "texts": [], "authors": [], "places": [], "subjects": [], "people": [],
              "source": None, "original_archive": [], "rights": None, "uploaded": None,
              "type": None, "languages": [], "classification": None, "donors": [],
              "credits": None, "files": []}
    return finalize(fields, site=SITE, harvested_at="2025-06-01T00:00:00Z") | extra


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def put_record(store: LocalStore, rec: dict[str, Any]) -> None:
    store.put(f"records/{SITE}/{rec['record_id']}.json", json.dumps(rec).encode())


def read_record(store: LocalStore, rid: str) -> dict[str, Any]:
    return json.loads(store.get(f"records/{SITE}/{rid}.json") or b"null")


def test_only_active_records_the_walk_did_not_meet_are_checked(store: LocalStore) -> None:
    state = HarvestState(store, SITE)
    for n in range(1, 7):
        put_record(store, record(str(n)))
    put_record(store, record("7", status="withdrawn", withdrawn_at=NOW))
    for n in (1, 2, 3):  # met by the campaign's walk
        rec = read_record(store, str(n))
        state.mark_seen(rec["url"], rec["record_id"], rec["content_sha256"], "C2")
    rec4 = read_record(store, "4")  # stored by the earlier campaign only
    state.mark_seen(rec4["url"], "4", rec4["content_sha256"], "C1")
    store.put("state/wilson/missing/5.json", json.dumps({"campaign": "C1"}).encode())
    store.put("state/wilson/missing/2.json", json.dumps({"campaign": "C1"}).encode())
    plan = plan_checks(store, state, SITE, "C2", threads=4)
    assert sorted(c.record_id for c in plan.candidates) == ["4", "5", "6"]
    assert {c.record_id: c.missing for c in plan.candidates}["5"] == {"campaign": "C1"}
    assert plan.active == 6 and plan.withdrawn == 1
    assert plan.stale_missing == ["2"]  # its page answered in the walk: the mark is stale
    assert count_withdrawn(store, SITE) == 1


@pytest.mark.parametrize(("status", "mark", "expected"), [
    (410, None, GONE),
    (410, {"campaign": "C2"}, GONE),
    (404, None, MISSING),
    (404, {"campaign": "C2"}, MISSING),  # a second 404 in the same campaign confirms nothing
    (404, {"campaign": "C1"}, CONFIRMED),  # a later campaign confirms the first 404
])
def test_what_an_answer_means(status: int, mark: dict[str, Any] | None, expected: str) -> None:
    assert outcome(status, mark, "C2") == expected


def test_the_valve_trips_on_more_than_a_tenth_of_the_active_records() -> None:
    check = WithdrawalCheck("C2", active=60, max_share=0.1)
    for n in range(6):
        check.answered(Candidate(str(n), f"https://example.org/{n}"), 410 if n % 2 else 404)
    assert check.bad == 6 and not check.tripped()  # a tenth exactly: not more than
    check.answered(Candidate("6", "https://example.org/6"), 404)
    assert check.tripped()
    assert check.reason() == ("7 of 60 stored records answered 404/410 at the end of the "
                              "backfill: the site or its listing looks broken; nothing was "
                              "withdrawn")


def test_a_withdrawal_keeps_the_content_the_hash_and_the_previous_version(
        store: LocalStore) -> None:
    state = HarvestState(store, SITE)
    rec = record("9")
    put_record(store, rec)
    state.mark_failed(rec["url"], "HTTP 404", RUN)
    store.put("state/wilson/missing/9.json", b"{}")
    line = withdraw(store, state, SITE, "9", RUN, NOW)
    stored = read_record(store, "9")
    assert stored == rec | {"status": "withdrawn", "withdrawn_at": NOW}
    assert content_sha256(stored) == rec["content_sha256"]
    version = json.loads(store.get(f"versions/{SITE}/9/{rec['content_sha256']}.json") or b"")
    assert version == rec
    assert line is not None and line["change"] == "withdrawn" and line["harvested_at"] == NOW
    assert [x["change"] for x in state.iter_changes(RUN)] == ["withdrawn"]  # journaled
    assert not store.exists("state/wilson/missing/9.json")
    assert list(state.iter_failed()) == []
    assert withdraw(store, state, SITE, "9", RUN, NOW) is None  # withdrawn once
    assert classify(record("9"), stored) == "restored"  # its page answering again


def test_apply_marks_first_404s_and_withdraws_the_rest(store: LocalStore) -> None:
    state = HarvestState(store, SITE)
    for rid in ("1", "2", "3"):
        put_record(store, record(rid))
    check = WithdrawalCheck("C2", active=30)
    check.answered(Candidate("1", record("1")["url"]), 410)
    check.answered(Candidate("2", record("2")["url"]), 404)
    check.answered(Candidate("3", record("3")["url"], {"campaign": "C1"}), 404)
    lines = apply(store, state, SITE, check, RUN, NOW)
    assert sorted(x["record_id"] for x in lines) == ["1", "3"]
    assert [read_record(store, r)["status"] for r in ("1", "2", "3")] == [
        "withdrawn", "active", "withdrawn"]
    mark = json.loads(store.get("state/wilson/missing/2.json") or b"")
    assert mark["campaign"] == "C2" and mark["first_404_at"] == NOW


def test_a_file_without_a_key_is_not_missing_when_files_are_not_downloaded() -> None:
    from pipelines.dedup import classify

    stored = {"content_sha256": "a", "status": "active",
              "files": [{"url": "https://x/document/1/download", "key": None}]}
    record = {"content_sha256": "a"}
    assert classify(record, stored) == "repaired"  # files wanted: fetch the missing file
    assert classify(record, stored, files_wanted=False) == "unchanged"  # not rewritten
