"""A listing drawn by script (no links in the HTML): harvest exits 6, check says so too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lookalike_run import NO_FILES, check, harvest, records, report
from lookalike_site import LookalikeSite


# rows drawn by script under the count the server still writes / count and rows by script
@pytest.mark.parametrize("markup,script", [("table", "body"), ("grid", "all")])
def test_a_scripted_listing_stops_harvest_and_check_with_a_reason(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path, markup: str, script: str) -> None:
    site = lookalike(size=30, markup=markup)
    site.script = script
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert run.code == 6
    assert "listing" in run.reason and "no document links" in run.reason
    assert records(store) == {}
    assert report(store, run.run_id)["exit_code"] == 6
    preflight = check(site)
    assert preflight.code == 6
    assert "no document links" in preflight.reason


def test_a_listing_turning_scripted_after_a_backfill_is_not_taken_for_nothing_new(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=30, markup="table")
    store = tmp_path / "store"
    assert harvest(site, store, "--mode", "backfill", *NO_FILES).code == 0
    site.publish(3)
    site.script = "all"
    incremental = harvest(site, store, *NO_FILES)
    assert incremental.code == 6 and "no document links" in incremental.reason
    backfill = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert backfill.code == 6
    assert len(records(store)) == 30
