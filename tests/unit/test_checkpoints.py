"""Checkpoints on a remote store (harvester/state.py, harvester/seenindex.py): a backfill's
resume cursor travels with the seen markers in one object, written at most once per
`checkpoint_seconds`; the next run reads the cursor back; a run's markers stay in one
object however often it checkpoints. On a local store that counts its calls (the S3 crawl
tests count the same through a proxy in front of moto and Ceph)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from unit_counting_store import CountingStore

from harvester.runs import earlier_reports, recover_interrupted, write_report
from harvester.state import HarvestState
from pipelines.storage.local import LocalStore

SITE = "wilson"
BATCHES = "state/wilson/seen-batch/"
CAMPAIGN = "20260101T000000Z-aaaaaa"  # a campaign's id is the id of the run that began it


def url(n: int) -> str:
    return f"https://digitalarchive.wilsoncenter.org/document/doc-{n}"


def remote(store: LocalStore, run_id: str, seconds: float = 0.0) -> HarvestState:
    """A state as a run on S3 has it: batched markers, checkpoints."""
    return HarvestState(store, SITE, batch_seen=True, run_id=run_id,
                        checkpoint_seconds=seconds)


def started(store: LocalStore, seconds: float = 0.0) -> tuple[HarvestState, dict[str, Any]]:
    state = remote(store, CAMPAIGN, seconds)
    assert state.load_backfill() is None
    campaign = {"id": CAMPAIGN, "status": "running", "resume": None, "started_at": "t0"}
    state.save_backfill(campaign)
    return state, campaign


def test_a_checkpoint_is_one_object_with_the_markers_and_the_cursor(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    state, campaign = started(store)
    assert store.ops("put") == ["state/wilson/backfill.json"]  # the campaign begins
    store.calls.clear()
    for page in range(1, 4):  # three listing steps done, a checkpoint each
        for n in range(page * 10, page * 10 + 10):
            state.mark_seen(url(n), str(n), f"{n:064d}", CAMPAIGN)
        state.save_backfill(dict(campaign, resume={"page": page}))
    puts = store.ops("put")
    assert len(puts) == 3 and set(puts) == {puts[0]} and puts[0].startswith(BATCHES)
    body = json.loads(store.get(puts[0]) or b"{}")
    assert len(body["markers"]) == 30  # the run's one object, written again each time
    assert body["resume"] == {"campaign": CAMPAIGN, "cursor": {"page": 3}}
    assert json.loads(store.get("state/wilson/backfill.json") or b"{}")["resume"] is None

    later = remote(LocalStore(tmp_path), "20260102T000000Z-bbbbbb")
    resumed = later.load_backfill()
    assert resumed is not None and resumed["resume"] == {"page": 3}
    assert later.get_seen(url(39))["record_id"] == "39"  # its markers came with it


def test_checkpoints_wait_for_their_interval_and_the_last_one_for_the_end(
        tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    state, campaign = started(store, seconds=3600)
    store.calls.clear()
    for page in range(1, 6):
        state.mark_seen(url(page), str(page), f"{page:064d}", CAMPAIGN)
        state.save_backfill(dict(campaign, resume={"page": page}))
    assert store.ops("put") == []  # not due: held (a kill now costs a refetch, no more)
    state.flush_seen()  # the run's end (StorePipeline.close_spider)
    puts = store.ops("put")
    assert len(puts) == 1 and puts[0].startswith(BATCHES)
    resumed = remote(LocalStore(tmp_path), "20260102T000000Z-bbbbbb").load_backfill()
    assert resumed is not None and resumed["resume"] == {"page": 5}


def test_a_held_checkpoint_is_written_when_its_interval_is_over(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    state, campaign = started(store, seconds=1.0)
    store.calls.clear()
    state.mark_seen(url(1), "1", "a" * 64, CAMPAIGN)
    state.save_backfill(dict(campaign, resume={"page": 1}))
    assert store.ops("put") == []  # held
    deadline = time.monotonic() + 30
    resumed = None
    while time.monotonic() < deadline:  # no further cursor move: the timer writes it
        resumed = remote(LocalStore(tmp_path), "20260102T000000Z-bbbbbb").load_backfill()
        if resumed is not None and resumed["resume"] == {"page": 1}:
            break
        time.sleep(0.05)
    assert resumed is not None and resumed["resume"] == {"page": 1}
    assert len(store.ops("put", BATCHES)) == 1


def test_a_cursor_reset_and_other_changes_win_over_an_older_checkpoint(
        tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state, campaign = started(store)
    state.mark_seen(url(1), "1", "a" * 64, CAMPAIGN)
    state.save_backfill(dict(campaign, resume={"page": 4}))
    # the walk stopped (an unstable listing): the next run walks from the start
    state.save_backfill(dict(campaign, resume=None))
    assert remote(store, "20260102T000000Z-bbbbbb").load_backfill()["resume"] is None
    # something beside the cursor changed: backfill.json is written, with the cursor
    state.save_backfill(dict(campaign, resume={"page": 6}, source_state={"date": "d"}))
    assert json.loads(store.get("state/wilson/backfill.json") or b"{}")["resume"] == {"page": 6}
    again = remote(store, "20260103T000000Z-cccccc").load_backfill()
    assert again is not None and again["resume"] == {"page": 6}
    assert again["source_state"] == {"date": "d"}


def test_a_new_campaign_does_not_take_an_older_campaigns_cursor(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state, campaign = started(store)
    state.save_backfill(dict(campaign, resume={"page": 4}))
    state.save_backfill(dict(campaign, status="complete", resume={"page": 9}))
    run2 = remote(store, "20260102T000000Z-bbbbbb")
    assert run2.load_backfill()["status"] == "complete"
    new = {"id": "20260102T000000Z-bbbbbb", "status": "running", "resume": None}
    run2.save_backfill(new)
    assert remote(store, "20260103T000000Z-cccccc").load_backfill() == new


def test_a_local_store_writes_every_cursor_to_the_campaign(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    state = HarvestState(store, SITE, batch_seen=True, run_id=CAMPAIGN)  # OAI-PMH, local
    campaign = {"id": CAMPAIGN, "status": "running", "resume": None}
    state.save_backfill(campaign)
    state.mark_seen(url(1), "1", "a" * 64, CAMPAIGN)
    state.save_backfill(dict(campaign, resume={"page": 1}))
    assert store.ops("put")[-2:] == [store.ops("put", BATCHES)[0], "state/wilson/backfill.json"]
    assert json.loads(store.get("state/wilson/backfill.json") or b"{}")["resume"] == {"page": 1}


def test_a_run_that_only_marks_reads_the_cursor_from_its_campaigns_objects_only(
        tmp_path: Path) -> None:
    """A resumed run that never loads the markers (records whole: OAI-PMH) finds the cursor
    in the newest objects, and reads no object written before its campaign began."""
    store = CountingStore(tmp_path)
    for run in range(3):  # earlier runs' batches, before the campaign
        old = remote(store, f"2025010{run + 1}T000000Z-aaaaaa")
        old.mark_seen(url(100 + run), "x", "b" * 64, "C0")
        old.flush_seen()
    state, campaign = started(store)
    state.mark_seen(url(1), "1", "a" * 64, CAMPAIGN)
    state.save_backfill(dict(campaign, resume={"page": 2}))
    store.calls.clear()
    resumed = remote(store, "20260102T000000Z-bbbbbb").load_backfill()
    assert resumed is not None and resumed["resume"] == {"page": 2}
    gets = store.ops("get", BATCHES)
    assert len(gets) == 1 and CAMPAIGN in gets[0]  # the newest: this campaign's own
    assert store.ops("list") == ["state/wilson/"]  # the state's one listing


def test_a_run_leaves_one_object_until_it_is_full_and_merging_keeps_the_cursor(
        tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state, campaign = started(store)
    state.seen_index.batch_size = 25
    for n in range(60):
        state.mark_seen(url(n), str(n), f"{n:064d}", CAMPAIGN)
        if n % 10 == 9:
            state.save_backfill(dict(campaign, resume={"page": n // 10}))
    state.flush_seen()
    keys = list(store.list(BATCHES))
    assert len(keys) == 3  # 25 + 25 + 10 markers, whatever the number of checkpoints
    state.close_seen()  # more than two objects: merged, the latest cursor kept
    merged = list(store.list(BATCHES))
    assert len(merged) == 1
    later = remote(store, "20260102T000000Z-bbbbbb")
    assert later.load_backfill()["resume"] == {"page": 5}
    assert [later.get_seen(url(n))["record_id"] for n in range(60)] == [str(n) for n in range(60)]


def test_a_runs_own_journal_is_dropped_without_listing_it(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    state = remote(store, CAMPAIGN)
    for n in range(3):
        state.write_journal_part(CAMPAIGN, [{"record_id": str(n)}])
    state.drop_change(CAMPAIGN, "abc")
    store.calls.clear()
    state.drop_changes(CAMPAIGN)
    assert store.ops("list") == []
    assert len(store.ops("delete")) == 4
    assert list(store.list("state/wilson/changes/")) == []


def test_the_coverage_comparison_reads_a_few_earlier_reports_and_lists_nothing(
        tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    for n in range(20):
        write_report(store, {"site": SITE, "run_id": f"20260101T0000{n:02d}Z-aaaaaa",
                             "status": "finished", "finished_at": f"2026-01-01T00:00:{n:02d}Z"})
    run_id = "20260201T000000Z-bbbbbb"
    state = remote(store, run_id)
    recover_interrupted(store, state, SITE, run_id, stale_seconds=600)
    write_report(store, {"site": SITE, "run_id": run_id, "status": "running"})
    store.calls.clear()
    found = earlier_reports(store, state, SITE, run_id, "2026-02-01T00:00:00Z")
    assert [r["finished_at"][-3:-1] for r in found] == ["15", "16", "17", "18", "19"]
    assert store.ops("list") == [] and len(store.ops("get")) == 5


def test_a_resumed_run_carries_the_cursor_on_before_its_first_checkpoint(
        tmp_path: Path) -> None:
    """A run of an open campaign writes the campaign's cursor into every object it writes,
    so the newest object alone tells the next run where to resume."""
    store = CountingStore(tmp_path)
    state, campaign = started(store)
    state.mark_seen(url(1), "1", "a" * 64, CAMPAIGN)
    state.save_backfill(dict(campaign, resume={"page": 2}))
    second = remote(store, "20260102T000000Z-bbbbbb", seconds=3600)
    assert second.load_backfill()["resume"] == {"page": 2}
    second.mark_seen(url(2), "2", "b" * 64, CAMPAIGN)
    second.seen_index.flush()  # a full batch, before any checkpoint of its own; then killed
    store.calls.clear()
    third = remote(store, "20260103T000000Z-cccccc")
    assert third.load_backfill()["resume"] == {"page": 2}
    assert len(store.ops("get", BATCHES)) == 1  # the newest object said it
