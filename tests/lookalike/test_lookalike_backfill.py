"""Backfills of the look-alike by the real CLI: every record stored once, every field right.

Markups the harvester's own sample does not draw: results as a views grid linking half the
documents by /node/NID, a definition list with the link on the date, cards linking each
document three times; a "Featured" sidebar, a "Recently viewed" footer block, mega-menu
teasers and (switchable) a "Related" views attachment drawn as the same striped table as the
results, all linking old documents; no count, no pager; /node/NID answering 301; gzip.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from lookalike_render import pdf_bytes
from lookalike_run import NO_FILES, changes, field_mismatches, harvest, records, report
from lookalike_site import LookalikeSite


def listing_pages(site: LookalikeSite) -> list[int]:
    return [int(parse_qs(h.query)["page"][0]) for h in site.requests("listing")]


def assert_stored_once(store: Path, site: LookalikeSite, run_id: str | None) -> None:
    lines = changes(store, run_id or "")
    assert Counter(c["record_id"] for c in lines) == dict.fromkeys(site.expected(), 1)
    fetched = Counter(h.path for h in site.requests("document") if h.status == 200)
    assert max(fetched.values()) == 1, "a document page was fetched twice"


def test_live_table_230_documents_100_a_page_every_field_and_file(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=230, markup="table", related=True)
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill")
    assert run.code == 0, run.stderr[-2000:]
    got = records(store)
    assert field_mismatches(got, site) == []
    assert_stored_once(store, site, run.run_id)
    assert all("items_per_page=100" in h.query for h in site.requests("listing"))
    assert sorted(listing_pages(site)) == [0, 1, 2]
    for rec in got.values():  # every file stored with the bytes the site served
        for f in rec["files"]:
            name = f["url"].rsplit("/", 1)[1]
            body = pdf_bytes(f"download {rec['record_id']}" if name == "download" else name)
            assert f["key"] and f["sha256"] == hashlib.sha256(body).hexdigest(), f
            assert (store / f["key"]).read_bytes() == body
    assert report(store, run.run_id)["counts"]["new"] == 230


@pytest.mark.parametrize("markup,options", [
    ("dl", {"count": False}),
    ("cards", {"pager": False}),
    ("grid", {"count": False, "pager": False, "related": True}),
    ("table", {"related": True, "links": "mixed"}),
])
def test_markups_of_its_own_backfilled_whole(lookalike: Callable[..., LookalikeSite], tmp_path: Path,
                                             markup: str, options: dict[str, object]) -> None:
    links = options.pop("links", "")
    site = lookalike(size=60, markup=markup, max_per_page=25, **options)
    site.links = str(links)
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert run.code == 0, run.stderr[-2000:]
    assert field_mismatches(records(store), site, files=False) == []
    assert_stored_once(store, site, run.run_id)


def test_node_pages_redirecting_to_their_alias(lookalike: Callable[..., LookalikeSite],
                                               tmp_path: Path) -> None:
    site = lookalike(size=40, markup="grid")  # half the results link /node/NID
    site.node_redirect = True
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert run.code == 0, run.stderr[-2000:]
    assert field_mismatches(records(store), site, files=False) == []
    assert_stored_once(store, site, run.run_id)


# --- what breaks --------------------------------------------------------------------------------
def test_pager_clamping_past_the_last_page_ends_the_walk(lookalike: Callable[..., LookalikeSite],
                                                         tmp_path: Path) -> None:
    site = lookalike(size=50, markup="dl", max_per_page=25, count=False)
    site.past_end = "clamp"
    store = tmp_path / "store"
    with contextlib.suppress(subprocess.TimeoutExpired):  # killed after 8 s of walking
        harvest(site, store, "--mode", "backfill", *NO_FILES, timeout=8)
    assert len(records(store)) == 50
    assert max(listing_pages(site)) <= 3, f"asked for listing page {max(listing_pages(site))}"


def test_a_short_page_in_the_middle_does_not_end_the_walk(lookalike: Callable[..., LookalikeSite],
                                                          tmp_path: Path) -> None:
    site = lookalike(size=60, markup="dl", max_per_page=25, count=False)
    site.ghosts.append(30)  # page 1 shows 24 rows; page 2 still holds 11 documents
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert run.code == 0
    assert field_mismatches(records(store), site, files=False) == []


def test_ties_in_the_upload_order_lose_nothing(lookalike: Callable[..., LookalikeSite],
                                               tmp_path: Path) -> None:
    site = lookalike(size=120, markup="table", max_per_page=25)
    site.tie_seconds = 86400 * 30  # uploads within the same 30 days tie
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert run.code != 0 or field_mismatches(records(store), site, files=False) == []


def test_a_withdrawal_during_the_walk_skips_no_other_document(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=60, markup="table", max_per_page=25)
    first_page = sorted(site.corpus.docs, key=lambda d: -d.created)[:25]
    site.on_listing[1] = lambda: site.withdraw(first_page[3].record_id, 410)
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert run.code == 0
    got = records(store)
    got.pop(first_page[3].record_id, None)  # stored before it went: fine either way
    assert field_mismatches(got, site, files=False) == []


def test_a_second_campaign_without_files_rewrites_nothing(lookalike: Callable[..., LookalikeSite],
                                                           tmp_path: Path) -> None:
    site = lookalike(size=20, markup="table")
    store = tmp_path / "store"
    assert harvest(site, store, "--mode", "backfill", *NO_FILES).code == 0
    before = {p.name: p.stat().st_mtime_ns for p in (store / "records" / "wilson").glob("*.json")}
    again = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert again.code == 0
    after = {p.name: p.stat().st_mtime_ns for p in (store / "records" / "wilson").glob("*.json")}
    assert report(store, again.run_id)["counts"]["unchanged"] == 20
    assert after == before


def test_a_page_past_the_end_answering_404_ends_the_walk(lookalike: Callable[..., LookalikeSite],
                                                         tmp_path: Path) -> None:
    """No count, the last page full, and the page after it answers 404: the end of the
    listing, not a listing that could not be read."""
    site = lookalike(size=50, markup="dl", max_per_page=25, count=False)
    site.past_end = "404"
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert run.code == 0, run.reason
    assert field_mismatches(records(store), site, files=False) == []
    assert report(store, run.run_id)["status"] == "finished"
