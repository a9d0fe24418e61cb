"""ListingWalk and the run plan, without a crawl: the resume cursor, the count checks and
sweeps, the walk's end, and the mode/campaign/walk decisions over a real local store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harvester import runplan
from harvester.state import HarvestState
from harvester.walk import DONE, SHORT, STOP, SWEEP, ListingWalk
from pipelines.storage.local import LocalStore

NOW = "2026-12-01T00:00:00Z"


def test_the_resume_cursor_moves_past_steps_whose_documents_are_all_done() -> None:
    walk = ListingWalk()
    a = walk.step_listed({"token": "A"}, {"token": "B"}, 0)
    walk.doc_scheduled(a)
    walk.doc_scheduled(a)
    b = walk.step_listed({"token": "B"}, None, 0)
    walk.doc_scheduled(b)
    assert walk.advance() == (False, None)  # step A still has documents pending
    walk.doc_finished(b)
    assert walk.advance() == (False, None)  # B is done, but A before it is not
    walk.doc_finished(a)
    walk.doc_finished(a)
    assert walk.advance() == (True, {"token": "B"})  # the last done step: read again on resume
    assert walk.advance() == (False, None)


def test_a_later_pass_does_not_move_the_cursor() -> None:
    walk = ListingWalk()
    assert walk.step_listed(0, 1, sweep=1) is None
    walk.doc_scheduled(None)
    assert walk.steps == [] and walk.advance() == (False, None)


def test_a_backfill_short_of_the_count_sweeps_then_settles_or_stops() -> None:
    walk = ListingWalk(max_sweeps=2, from_origin=True)
    walk.page_read("0", ["a", "b"], 3, "d0", 0)
    end = walk.backfill_end(0, backfill=True)
    assert end.what == SWEEP and "counts 3 documents" in end.reason
    walk.begin_sweep()
    walk.page_read("0", ["a", "b"], 3, "d0", 1)  # the same page again: the order is stable
    end = walk.backfill_end(1, backfill=True)
    assert end.what == SHORT and end.missing == 1 and walk.exhausted

    unstable = ListingWalk(max_sweeps=1, from_origin=True)
    unstable.page_read("0", ["a", "b"], 3, "d0", 0)
    assert unstable.backfill_end(0, backfill=True).what == SWEEP
    unstable.begin_sweep()
    unstable.page_read("0", ["c", "a"], 4, "d1", 1)  # another page: unstable, still short
    end = unstable.backfill_end(1, backfill=True)
    assert end.what == STOP and unstable.cursor_reset and not unstable.exhausted


def test_no_count_check_for_a_limited_run_or_a_shared_crawl() -> None:
    for walk in (ListingWalk(limited=True, from_origin=True),
                 ListingWalk(count_checks=False, from_origin=True)):
        walk.page_read("0", ["a"], 50, "d", 0)
        assert walk.backfill_end(0, backfill=True).what == DONE and walk.exhausted


def test_an_incremental_walk_expects_the_counts_growth() -> None:
    walk = ListingWalk(max_sweeps=1)
    walk.page_read("0", ["n1", "old"], 12, "d", 0)
    walk.walk_found.add("n1")
    assert walk.incremental_end(0, baseline=10).what == SWEEP  # grew by 2, met 1
    walk.begin_sweep()
    walk.walk_found.add("n2")
    walk.sweep_found = 1
    assert walk.incremental_end(1, baseline=10).what == DONE and walk.ended


def test_the_first_unreadable_reason_is_the_one_reported() -> None:
    walk = ListingWalk()
    assert walk.unreadable("first", "u1") and not walk.unreadable("second", "u2")
    assert walk.error == "first: u1"


def test_the_run_plan_over_a_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state = HarvestState(store, "demo")
    mode, campaign = runplan.resolve_mode(state, store, "demo", "auto", "run1", NOW)
    assert mode == "backfill" and campaign and campaign["resume"] is None  # an empty store
    assert state.load_backfill() == campaign
    campaign["resume"] = {"window": ["2020-01-01", "2020-02-01"], "token": "t9"}
    state.save_backfill(campaign)
    again, resumed = runplan.resolve_mode(state, store, "demo", "auto", "run2", NOW)
    assert again == "backfill" and resumed and resumed["id"] == "run1"
    assert runplan.campaign_resume(resumed) == campaign["resume"]  # any shape of cursor
    assert runplan.campaign_resume({"cursor": 4}) == 4  # campaigns of older versions
    done = runplan.completed(resumed, "2026-12-02T00:00:00Z", 120)
    state.save_backfill(dict(done, source_state={"response_date": "2026-12-02T00:00:00Z"}))
    plan = runplan.resolve_walk(state, "run3", NOW)
    assert not plan.resumed and not plan.saved
    assert plan.walk["baseline_total"] == 120
    assert plan.walk["previous"] == {"response_date": "2026-12-02T00:00:00Z"}
    state.save_incremental(plan.walk)
    assert runplan.resolve_walk(state, "run4", NOW).resumed  # an open walk goes on


def test_every_scheduled_document_ends_in_one_outcome() -> None:
    from harvester.outcomes import FAILED, QUARANTINED, THROUGH, Outcomes

    outcomes = Outcomes(limit=3)
    for _ in range(3):
        outcomes.schedule()
    assert outcomes.full() and outcomes.pending == 3
    for outcome in (THROUGH, FAILED, QUARANTINED):
        outcomes.ended(outcome)
    assert (outcomes.through, outcomes.failed, outcomes.quarantined) == (1, 1, 1)
    assert outcomes.pending == 0 and outcomes.finished == 3
    assert not Outcomes().full()  # no --limit


def test_auto_mode_after_a_complete_campaign_lists_no_records(tmp_path: Path) -> None:
    """The campaign says the store was harvested whole: an auto run is incremental without
    listing the records; with no campaign at all the records decide."""
    calls: list[str] = []

    class Counting(LocalStore):
        def list(self, prefix: str = "") -> Any:
            calls.append(prefix)
            return super().list(prefix)

    store = Counting(tmp_path)
    state = HarvestState(store, "demo")
    assert runplan.resolve_mode(state, store, "demo", "auto", "run1", NOW)[0] == "backfill"
    assert calls == ["records/demo/"]  # no campaign: an empty store is backfilled
    state.save_backfill({"id": "run1", "status": "complete", "resume": None})
    calls.clear()
    mode, running = runplan.resolve_mode(state, store, "demo", "auto", "run2", NOW)
    assert (mode, running, calls) == ("incremental", None, [])
    store.put("records/demo/1.json", b"{}")
    (tmp_path / "state" / "demo" / "backfill.json").unlink()  # a store of an older version
    assert runplan.resolve_mode(HarvestState(store, "demo"), store, "demo", "auto", "run3",
                                NOW)[0] == "incremental"
