"""The listing walk against listings drawn in other markups, with chrome that links old
documents, a default order that is not newest first, a site that ignores items_per_page,
and a listing drawn by script (harvest, `scrapy crawl` and check stop with exit status 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from crawl_support import (
    FAST,
    assert_matches_ground_truth,
    harvest,
    latest_report,
    local_records,
    local_reports,
)

from harvester.sample import SampleControl, serve_subprocess
from harvester.sites.wilson import listing_url

TEN = ("-s", "HARVESTER_LISTING_PAGE_SIZE=10")
ROOT = Path(__file__).resolve().parents[2]


def _expected(control: SampleControl) -> dict[str, dict]:
    return {r["record_id"]: r for r in control.archive().expected_records()}


@pytest.mark.parametrize("markup", ["views", "list", "cards", "search-results"])
def test_each_markup_with_featured_chrome_is_harvested_whole_and_new_uploads_found(
        markup: str, tmp_path: Path) -> None:
    """10 a page (so the walk spans pages): featured old documents in a header menu, a
    sidebar and a "related" box are not taken for results, so the incremental walk does not
    stop at page 0 and the 12 new uploads (two pages) are all found."""
    store = tmp_path / "store"
    with serve_subprocess(size=25) as (base_url, control):
        control.set_listing(markup=markup, featured=True)
        first = harvest(str(store), base_url, *TEN)
        assert first.code == 0, first.stderr[-2000:]
        assert_matches_ground_truth(local_records(store), _expected(control))
        new = control.publish(12)
        control.reset_stats()
        second = harvest(str(store), base_url, *TEN)
        assert second.code == 0, second.stderr[-2000:]
        served = control.stats()["by_kind"]
        records = local_records(store)
        assert set(new) <= set(records)
        assert_matches_ground_truth(records, _expected(control))
    assert served.get("listing", 0) == 2
    assert served.get("document", 0) + served.get("node", 0) == 12


def test_the_live_table_at_100_a_page_with_featured_chrome(tmp_path: Path) -> None:
    """130 documents in the live striped table, 100 a page, oldest first unless asked: the
    backfill stores all of them with 2 listing requests, and an idle run costs 2 requests."""
    store = tmp_path / "store"
    with serve_subprocess(size=130) as (base_url, control):
        style = control.set_listing(markup="table", featured=True)
        assert style["default_newest_first"] is False
        run = harvest(str(store), base_url, "-s", "HARVESTER_DOWNLOAD_FILES=False")
        assert run.code == 0, run.stderr[-2000:]
        assert control.stats()["by_kind"].get("listing", 0) == 2
        expected = _expected(control)
        records = local_records(store)
        assert sorted(records) == sorted(expected)
        for rid, record in records.items():
            assert record["title"] == expected[rid]["title"]
        control.reset_stats()
        idle = harvest(str(store), base_url)
        assert idle.code == 0, idle.stderr[-2000:]
        assert sum(control.stats()["by_kind"].values()) <= 2


def test_a_site_that_ignores_items_per_page_is_walked_to_its_end(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=25) as (base_url, control):
        control.set_listing(markup="views", max_per_page=50)  # asked 100: served 10 a page
        run = harvest(str(store), base_url)
        assert run.code == 0, run.stderr[-2000:]
        assert_matches_ground_truth(local_records(store), _expected(control))
        assert control.stats()["by_kind"].get("listing", 0) == 3


def test_a_listing_drawn_by_script_stops_the_harvest_with_exit_6(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=12) as (base_url, control):
        control.set_listing(markup="script")
        run = harvest(str(store), base_url)
    assert run.code == 6, run.stderr[-2000:]
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("harvester harvest: the listing could not be read")
    assert "the first listing page holds no document links" in last and "page=0" in last
    report = latest_report(local_reports(store))
    assert report["status"] == "stopped" and report["exit_code"] == 6
    assert "no document links" in report["exit_reason"]
    assert local_records(store) == {}


def test_scrapy_crawl_exits_6_on_an_unreadable_listing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=12) as (base_url, control):
        control.set_listing(markup="script")
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "wilson", "-a", "mode=backfill",
             "-s", f"HARVESTER_BASE_URL={base_url}", "-s", f"HARVESTER_STORE={store}", *FAST],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")})
        control.set_listing(markup="table")
        ok = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "wilson",
             "-s", f"HARVESTER_BASE_URL={base_url}", "-s", f"HARVESTER_STORE={store}", *FAST],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")})
    assert proc.returncode == 6, proc.stderr[-2000:]
    assert "scrapy crawl: the listing could not be read" in proc.stderr
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert len(local_records(store)) == 12


def test_a_listing_page_that_fails_for_good_stops_with_exit_6(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=12) as (base_url, control):
        control.set_faults({"500": {"paths": "listing", "always": True}})
        run = harvest(str(store), base_url, "-s", "RETRY_TIMES=1")
    assert run.code == 6, run.stderr[-2000:]
    assert "listing page 0 could not be fetched (HTTP 500)" in run.stderr.splitlines()[-1]


def test_a_page_the_count_promised_results_on_stops_the_walk_there(tmp_path: Path) -> None:
    """Page 1 drawn by script (its count says 11 - 20 of 30, no links): page 0's documents
    are stored, the campaign stays open, exit 6 names the page; once the page reads again,
    the next run stores the rest and completes the campaign."""
    store = tmp_path / "store"
    with serve_subprocess(size=30) as (base_url, control):
        page1 = "/search?" + listing_url("", 1, 10).split("?", 1)[1]
        control.set_faults({"scripted": {"urls": [page1], "always": True}})
        run = harvest(str(store), base_url, *TEN)
        assert run.code == 6, run.stderr[-2000:]
        assert ("listing page 1 holds no document links, though the page before it showed "
                "results to 10 of 30") in run.stderr.splitlines()[-1]
        assert len(local_records(store)) == 10
        assert json.loads((store / "state/wilson/backfill.json").read_text())["status"] == "running"
        control.clear_faults()
        again = harvest(str(store), base_url, *TEN)
        assert again.code == 0, again.stderr[-2000:]
        assert_matches_ground_truth(local_records(store), _expected(control))
        assert json.loads((store / "state/wilson/backfill.json").read_text())["status"] == "complete"
