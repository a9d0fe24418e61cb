"""`harvester check` against the look-alike: every markup readable, the first document's record
right against the ground truth, at most four requests, robots.txt's Crawl-delay read."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from lookalike_run import check
from lookalike_site import LookalikeSite


@pytest.mark.parametrize("markup,links", [("table", "alias"), ("grid", "node"), ("dl", "mixed"),
                                          ("cards", "alias")])
def test_check_reads_every_markup_and_the_newest_document(
        lookalike: Callable[..., LookalikeSite], markup: str, links: str) -> None:
    site = lookalike(size=30, markup=markup, related=True, crawl_delay=0.05)
    site.links = links
    preflight = check(site, "--json")
    assert preflight.code == 0, preflight.stdout + preflight.stderr
    out = json.loads(preflight.stdout)
    newest = max(site.corpus.docs, key=lambda d: d.created)
    record = out["document"]["record"]
    for name, value in newest.expected().items():
        assert record[name] == value, name
    assert record["url"].endswith(newest.path)
    assert out["listing"]["links_found"] == 30
    assert out["robots"]["crawl_delay"] == 0.05
    assert len(site.requests()) <= 4
