"""Incremental runs against the look-alike: new uploads found, an idle run nearly free.

Side blocks (a "Featured" sidebar, a "Recently viewed" footer, mega-menu teasers, a "Related"
attachment drawn as the results table) link OLD documents on every listing page: if any of
them counted as a result, the walk would stop on page 0 and miss the uploads behind it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from lookalike_run import NO_FILES, field_mismatches, harvest, records, report
from lookalike_site import LookalikeSite


def backfilled(site: LookalikeSite, store: Path) -> None:
    run = harvest(site, store, "--mode", "backfill", *NO_FILES)
    assert run.code == 0, run.stderr[-2000:]
    assert len(records(store)) == len(site.corpus.docs)
    site.reset_log()


@pytest.mark.parametrize("markup", ["table", "grid"])
def test_more_than_a_page_of_new_uploads_found_by_one_run_then_an_idle_run_costs_two_requests(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path, markup: str) -> None:
    site = lookalike(size=40, markup=markup, related=True)
    store = tmp_path / "store"
    backfilled(site, store)
    new = site.publish(130)
    run = harvest(site, store, *NO_FILES)
    assert run.code == 0, run.stderr[-2000:]
    assert report(store, run.run_id)["mode"] == "incremental"
    assert field_mismatches(records(store), site, files=False) == []
    kinds = Counter(h.kind for h in site.requests())
    assert kinds["document"] == len(new) and kinds["listing"] == 2 and kinds["robots"] <= 1
    site.reset_log()
    idle = harvest(site, store, *NO_FILES)
    assert idle.code == 0
    assert [h.kind for h in site.requests()] in (["robots", "listing"], ["listing"])


def test_new_uploads_on_a_site_giving_25_a_page(lookalike: Callable[..., LookalikeSite],
                                               tmp_path: Path) -> None:
    site = lookalike(size=30, markup="dl", max_per_page=25, count=False)
    store = tmp_path / "store"
    backfilled(site, store)
    new = site.publish(60)  # pages 0 and 1 all new, page 2 new and old
    run = harvest(site, store, *NO_FILES)
    assert run.code == 0
    assert field_mismatches(records(store), site, files=False) == []
    assert Counter(h.kind for h in site.requests())["document"] == len(new)


def test_an_idle_run_after_the_listing_links_aliases_instead_of_node_paths(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=120, markup="table")
    site.links = "node"
    store = tmp_path / "store"
    backfilled(site, store)
    site.links = "alias"
    idle = harvest(site, store, *NO_FILES)
    assert idle.code == 0
    kinds = Counter(h.kind for h in site.requests())
    assert kinds["document"] == 0 and kinds["listing"] == 1, dict(kinds)


@pytest.mark.xfail(strict=True, reason="the reverse of the alias case: documents stored from "
                   "/document/<slug> links are not known once the listing links /node/<nid>; an "
                   "idle incremental run refetches every document (here 120)")
def test_an_idle_run_after_the_listing_links_node_paths_instead_of_aliases(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=120, markup="table")
    store = tmp_path / "store"
    backfilled(site, store)
    site.links = "node"
    idle = harvest(site, store, *NO_FILES)
    assert idle.code == 0
    kinds = Counter(h.kind for h in site.requests())
    assert kinds["document"] == 0 and kinds["listing"] == 1, dict(kinds)


def test_a_batch_of_uploads_sharing_their_upload_second_is_found_whole(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=40, markup="table", max_per_page=25)
    store = tmp_path / "store"
    backfilled(site, store)
    new = site.publish(80)
    for n, doc in enumerate(new):
        doc.created = new[0].created + n // 10
    site.tie_seconds = 1  # ties within a second come in an order of the moment
    run = harvest(site, store, *NO_FILES)
    got = records(store)
    assert run.code != 0 or all(doc.record_id in got for doc in new), \
        f"{sum(doc.record_id not in got for doc in new)} of {len(new)} new uploads missed"
    if run.code:  # loud: the walk stays open, and the next runs pick up what was missed
        assert run.code == 6 and "order changes between requests" in run.reason, run.reason
        for _ in range(3):
            if all(doc.record_id in records(store) for doc in new):
                break
            harvest(site, store, *NO_FILES)
        assert all(doc.record_id in records(store) for doc in new)
