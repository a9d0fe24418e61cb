from __future__ import annotations

import pytest
from wilson_fixtures import case_names, load_case

from harvester.exceptions import ConfigError
from harvester.sites import get_site
from harvester.sites.wilson import Listing, is_challenge, parse_listing


@pytest.mark.parametrize("name", case_names("listing"))
def test_listing_fixture(name):
    body, url, expected = load_case(name)
    listing = parse_listing(body, url)
    assert listing.document_urls == expected["document_urls"]
    assert listing.next_url == expected["next_url"]
    assert listing.total == expected["total"]


def test_last_page_has_no_next_and_views_row_variant():
    body = b"""<main><div class="search-results-count">16,153 results</div>
    <div class="views-row"><a href="/document/a">A</a></div>
    <div class="views-row"><a href="/document/a">A again</a><a href="/about">x</a></div>
    <nav class="pager"><ul><li class="pager__item--last"><a href="?page=9">Last</a></li></ul></nav>
    </main>"""
    listing = parse_listing(body, "http://127.0.0.1:8000/search?page=9")
    assert listing == Listing(["http://127.0.0.1:8000/document/a"], None, 16153)


@pytest.mark.parametrize("body", [b"", b"\x1f\x8b\x08\x00garbage", b"<html></html>"])
def test_not_a_listing_gives_an_empty_listing(body):
    assert parse_listing(body, "https://x/search") == Listing([], None, None)


def test_document_pages_are_not_listings_and_challenge_detection():
    body, url, _ = load_case("seed-feng-xi-telegram")
    assert parse_listing(body, url).document_urls == []
    assert not is_challenge(body)
    assert is_challenge(load_case("challenge-page")[0])


def test_site_registry():
    site = get_site("wilson")
    assert site.name == "wilson"
    assert site.live_base_url == "https://digitalarchive.wilsoncenter.org"
    assert site.parse_listing is parse_listing
    with pytest.raises(ConfigError, match="unknown site"):
        get_site("nope")
