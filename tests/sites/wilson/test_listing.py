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


# --- listing markups the sample archive does not draw: written by hand from the site notes
MIRROR = "http://127.0.0.1:8000/search?items_per_page=100&page=2"
LIVE = "https://digitalarchive.wilsoncenter.org"


def _page(main: str, *, header: str = "", after_main: str = "") -> bytes:
    return f"""<!DOCTYPE html><html><head><title>Search | Wilson Center Digital Archive</title>
    </head><body class="path-search layout-one-sidebar layout-sidebar-first">
    <a href="#main-content" class="visually-hidden focusable skip-link">Skip to main content</a>
    <header role="banner"><nav class="navbar"><ul class="menu">
      <li><a href="/document/featured-cable-in-menu">A document in the mega-menu</a></li>
      <li><a href="/collections">Collections</a></li></ul></nav>{header}</header>
    <main role="main"><div class="layout-content">{main}</div></main>{after_main}
    <footer><a href="/document/footer-pick">Document of the month</a></footer>
    </body></html>""".encode()


LIVE_TABLE = _page("""
  <div class="views-element-container"><div class="view view-search">
    <div>Results: 21 - 30 of 81</div>
    <table class="table table-hover table-striped"><tbody>
      <tr><td class="date">July 1, 1950</td>
          <td class="document contextual-region"><a href="/document/telegram-stalin-mao">
          Telegram, Stalin to Mao</a><p>Summary mentioning 1948 documents.</p></td></tr>
      <tr><td class="date">1950</td>
          <td class="document contextual-region"><a href="/document/memo-kim-shtykov">Memo</a>
          </td></tr>
      <tr><td class="date"></td>
          <td class="document contextual-region"><a href="/document/memo-kim-shtykov-0">Memo</a>
          <a href="/document/300653/download">Download</a></td></tr>
    </tbody></table>
    <ul class="pagination"><li class="page-item"><a class="page-link" href="?page=3">4</a></li></ul>
  </div></div>""", after_main="""
  <aside class="col-md-3"><div class="block block-views-blockfeatured-documents-block-1">
    <h2>Featured Documents</h2><div class="view-content">
    <div class="views-row"><a href="/document/old-featured-1">Old 1</a></div>
    <div class="views-row"><a href="/document/old-featured-2">Old 2</a></div>
    <div class="views-row"><a href="/document/old-featured-3">Old 3</a></div>
    <div class="views-row"><a href="/document/old-featured-4">Old 4</a></div></div></div>
  </aside>""")


def test_the_live_striped_table_is_read_and_the_chrome_is_not() -> None:
    listing = parse_listing(LIVE_TABLE, MIRROR)
    assert listing.document_urls == [
        "http://127.0.0.1:8000/document/telegram-stalin-mao",
        "http://127.0.0.1:8000/document/memo-kim-shtykov",
        "http://127.0.0.1:8000/document/memo-kim-shtykov-0",
    ]
    assert (listing.total, listing.shown_to) == (81, 30)


def test_views_rows_beside_a_featured_views_block_inside_main() -> None:
    rows = "".join(f'<div class="views-row"><h3><a href="/document/doc-{i}">Doc {i}</a></h3>'
                   f'<a href="/document/doc-{i}">Read more</a></div>' for i in range(6))
    featured = "".join(f'<div class="views-row"><a href="/document/featured-{i}">F</a></div>'
                       for i in range(8))  # more rows than the results: still not results
    body = _page(f"""<div class="search-results-count">Showing 1 &ndash; 6 of 6 results</div>
      <div class="view view-search"><div class="view-content">{rows}</div></div>
      <div class="block block-views-blockfeatured-documents-block-1"><div class="view-content">
      {featured}</div></div>""")
    listing = parse_listing(body, MIRROR)
    assert listing.document_urls == [f"http://127.0.0.1:8000/document/doc-{i}" for i in range(6)]
    assert (listing.total, listing.shown_to) == (6, 6)


def test_an_unmarked_box_of_a_few_documents_loses_to_the_results_list() -> None:
    items = "".join(f'<li><a href="/node/{1000 + i}">Node {i}</a></li>' for i in range(10))
    body = _page(f"""<ol>{items}</ol>
      <div><p>See also</p><p><a href="/document/a">A</a></p><p><a href="/document/b">B</a></p>
      <p><a href="/document/c">C</a></p></div>""")
    listing = parse_listing(body, MIRROR)
    assert listing.document_urls == [f"http://127.0.0.1:8000/node/{1000 + i}" for i in range(10)]
    assert listing.total is None


def test_results_grouped_in_several_lists_are_all_read() -> None:
    groups = "".join(
        f'<div class="item-list"><h3>{year}</h3><ul>'
        + "".join(f'<li><a href="{LIVE}/document/y{year}-{i}">x</a></li>' for i in range(3))
        + "</ul></div>" for year in (1950, 1951, 1952))
    listing = parse_listing(_page(f'<div class="view-content">{groups}</div>'), MIRROR)
    # absolute links to the live host count as results on a mirror (the spider maps them)
    assert listing.document_urls == [f"{LIVE}/document/y{year}-{i}"
                                     for year in (1950, 1951, 1952) for i in range(3)]


def test_a_listing_drawn_by_script_has_no_links_but_its_count() -> None:
    body = _page("""<div class="result-info">Results: 1 - 100 of 16,153</div>
      <div id="app"></div><script>var data = [{"path": "/document/a"}];</script>""")
    listing = parse_listing(body, MIRROR)
    assert listing.document_urls == [] and listing.total == 16153 and not listing.says_empty


@pytest.mark.parametrize(("text", "total", "shown_to"), [
    ("Results: 21 - 30 of 81", 81, 30),
    ("Showing 1\u201310 of 16,153 results", 16153, 10),
    ("Displaying 101 - 200 of 1,616", 1616, 200),
    ("16,153 results", 16153, None),
    ("Results: 81", 81, None),
])
def test_result_counts_in_their_usual_wordings(text: str, total: int, shown_to: int | None) -> None:
    body = _page(f'<p class="x">{text}</p><ul><li><a href="/document/a">The 1948 documents</a>'
                 '</li><li><a href="/document/b">B</a></li></ul>')
    listing = parse_listing(body, MIRROR)
    assert (listing.total, listing.shown_to) == (total, shown_to)
    assert len(listing.document_urls) == 2


def test_a_page_past_the_end_says_it_is_empty() -> None:
    listing = parse_listing(_page("<p>No results found.</p>"), MIRROR)
    assert listing.document_urls == [] and listing.says_empty


def test_listing_urls_ask_for_100_newest_first() -> None:
    from harvester.sites.wilson import listing_url

    url = listing_url("https://digitalarchive.wilsoncenter.org/", 3)
    assert url == ("https://digitalarchive.wilsoncenter.org/search?items_per_page=100"
                   "&sort_bef_combine=created_DESC&sort_by=created&sort_order=DESC&page=3")
    assert listing_url("http://x", 0, 10).startswith("http://x/search?items_per_page=10&")


def test_a_result_link_is_its_path_without_query_or_trailing_slash() -> None:
    body = _page('<ul><li><a href="/document/a?search_api_fulltext=stalin&amp;page=3">A</a></li>'
                 '<li><a href="/document/b/">B</a></li><li><a href="/node/12#top">C</a></li></ul>')
    assert parse_listing(body, MIRROR).document_urls == [
        "http://127.0.0.1:8000/document/a", "http://127.0.0.1:8000/document/b",
        "http://127.0.0.1:8000/node/12"]
