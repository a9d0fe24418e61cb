"""HTML of the sample archive's listing pages, in several markups.

The live site draws its results as a striped table (`td.document a`, a count "Results:
21 - 30 of 81"); the other markups are what mirrors, other themes and other archives draw,
so that a harvester is tested on shapes it was not written against:

- table:          the live striped table, Bootstrap pagination without rel=next;
- views:          Drupal views rows, "Showing 11 - 20 of 81 results", the Drupal pager;
- list:           an ordered list of /node/<nid> links, no count and no pager;
- cards:          Bootstrap cards with a title link and a "Read more" link to the same
                  document, "81 documents", a "Load more" link;
- search-results: the earlier sample's `.search-results` blocks;
- script:         results drawn by script (a JSON blob, no links in the HTML).

`featured` adds chrome that links documents without being results: a header menu of
highlights, a sidebar block of featured (old) documents and a "related" box in the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from harvester.sample import chrome
from harvester.sample import words as W
from harvester.sample.generate import Head
from harvester.sample.render import attr, esc

MARKUPS = ("table", "views", "list", "cards", "search-results", "script")


@dataclass(frozen=True)
class ListingStyle:
    """How the sample draws and orders its listing (a switch of the sample server)."""

    markup: str = "table"
    featured: bool = False  # chrome and side blocks that link documents
    max_per_page: int = 100  # items_per_page above this is served at the default size
    default_per_page: int = 10
    default_newest_first: bool = False  # the order when the request asks for none

    def __post_init__(self) -> None:
        if self.markup not in MARKUPS:
            raise ValueError(f"unknown listing markup {self.markup!r}; known: {', '.join(MARKUPS)}")
        if self.max_per_page < 1 or self.default_per_page < 1:
            raise ValueError("page sizes must be positive")


@dataclass(frozen=True)
class ListingEntry:
    slug: str
    title: str
    nid: int
    head: Head


@dataclass(frozen=True)
class ListingView:
    """One listing page to draw: its entries and where it stands in the listing."""

    entries: list[ListingEntry]
    page: int
    per_page: int
    total: int
    featured: list[ListingEntry]


def listing_page(view: ListingView, style: ListingStyle) -> str:
    results = _DRAWERS[style.markup](view) if view.entries else _EMPTY[style.markup]
    main = '    <h1 class="page-title">Search the Archive</h1>\n' + _facets() + results
    if style.featured:
        main += _related(view.featured)
    head = chrome.drupal_settings("search", {"views": {"ajax_path": "/views/ajax"}})
    page = chrome.page("Search", "path-search layout-one-sidebar layout-sidebar-first", head, main)
    if style.featured:  # a highlights menu in the header and a featured block beside main
        page = page.replace("</header>", _highlights_menu(view.featured) + "</header>", 1)
        page = page.replace("  </main>\n", "  </main>\n" + _sidebar(view.featured), 1)
    return page


def _first_last(view: ListingView) -> tuple[int, int]:
    first = view.page * view.per_page + 1
    return first, first + len(view.entries) - 1


def _date(entry: ListingEntry) -> str:
    return esc(entry.head.date_text or "")


def _summary(entry: ListingEntry) -> str:
    return esc(entry.head.summary or "")


def _table(view: ListingView) -> str:
    first, last = _first_last(view)
    rows = "".join(
        f'        <tr><td class="date">{_date(e)}</td>'
        f'<td class="document contextual-region"><a href="/document/{attr(e.slug)}">'
        f'{esc(e.title)}</a><div class="summary">{_summary(e)}</div></td></tr>\n'
        for e in view.entries
    )
    pages = max((view.total + view.per_page - 1) // view.per_page, 1)
    items = "".join(
        f'<li class="page-item{" active" if n == view.page else ""}">'
        f'<a class="page-link" href="?page={n}">{n + 1}</a></li>'
        for n in range(max(0, view.page - 3), min(pages, view.page + 4))
    )
    return (
        f'    <div class="result-info">Results: {first} - {last} of {view.total}</div>\n'
        '    <div class="table-responsive"><table class="table table-hover table-striped">\n'
        "      <thead><tr><th>Date</th><th>Document</th></tr></thead>\n      <tbody>\n"
        f"{rows}      </tbody>\n    </table></div>\n"
        f'    <nav aria-label="Search results pages"><ul class="pagination">{items}</ul></nav>\n'
    )


def _views(view: ListingView) -> str:
    first, last = _first_last(view)
    rows = "".join(
        f'        <div class="views-row"><div class="date">{_date(e)}</div>'
        f'<h3 class="title"><a href="/document/{attr(e.slug)}">{esc(e.title)}</a></h3>'
        f'<div class="summary">{_summary(e)}</div>'
        + (f'<a class="download-link" href="/document/{e.nid}/download">Download</a>'
           if e.head.has_download else "")
        + "</div>\n"
        for e in view.entries
    )
    more = last < view.total
    pager = (
        '    <nav class="pager" role="navigation"><ul class="pager__items js-pager__items">'
        + (f'<li class="pager__item pager__item--previous"><a href="?page={view.page - 1}" '
           'rel="prev">‹ Previous</a></li>' if view.page else "")
        + (f'<li class="pager__item pager__item--next"><a href="?page={view.page + 1}" '
           'rel="next">Next ›</a></li>' if more else "")
        + "</ul></nav>\n"
    )
    return (
        f'    <div class="search-results-count">Showing {first} - {last} of {view.total:,} '
        "results</div>\n"
        f'    <div class="view view-search"><div class="view-content">\n{rows}'
        f"    </div></div>\n{pager}"
    )


def _list(view: ListingView) -> str:
    items = "".join(
        f'      <li><a href="/node/{e.nid}">{esc(e.title)}</a> <span class="when">{_date(e)}'
        "</span></li>\n"
        for e in view.entries
    )
    return f'    <ol class="results-list">\n{items}    </ol>\n'


def _cards(view: ListingView) -> str:
    cards = "".join(
        '      <div class="col"><div class="card"><div class="card-body">'
        f'<h5 class="card-title"><a href="/document/{attr(e.slug)}">{esc(e.title)}</a></h5>'
        f'<p class="card-text">{_summary(e)}</p>'
        f'<a class="btn btn-link" href="/document/{attr(e.slug)}">Read more</a>'
        "</div></div></div>\n"
        for e in view.entries
    )
    return (
        f'    <p class="lead">{view.total} documents</p>\n'
        f'    <div class="row row-cols-3 g-4">\n{cards}    </div>\n'
        f'    <p><a class="load-more" href="?page={view.page + 1}">Load more</a></p>\n'
    )


def _search_results(view: ListingView) -> str:
    first, last = _first_last(view)
    results = "".join(
        f'      <div class="search-result"><h3 class="title"><a href="/document/{attr(e.slug)}">'
        f"{esc(e.title)}</a></h3></div>\n"
        for e in view.entries
    )
    return (
        f'    <div class="search-results-count">Showing {first} - {last} of {view.total:,} '
        f'results</div>\n    <div class="search-results">\n{results}    </div>\n'
    )


def _script(view: ListingView) -> str:
    first, last = _first_last(view)
    data = [{"title": e.title, "nid": e.nid, "path": "document/" + e.slug} for e in view.entries]
    blob = json.dumps(data).replace("</", "<\\/")
    return (
        f'    <div class="result-info">Results: {first} - {last} of {view.total}</div>\n'
        '    <div id="search-app" data-results="pending"></div>\n'
        f'    <script type="application/json" id="search-data">{blob}</script>\n'
        '    <script>window.renderResults(document.getElementById("search-data"));</script>\n'
    )


_DRAWERS = {"table": _table, "views": _views, "list": _list, "cards": _cards,
            "search-results": _search_results, "script": _script}
_EMPTY = {
    "table": "    <p>No results found.</p>\n",
    "views": '    <div class="view-empty"><p>Your search yielded no results.</p></div>\n',
    "list": '    <ol class="results-list">\n    </ol>\n',
    "cards": '    <p class="lead">0 documents</p>\n',
    "search-results": '    <div class="search-empty"><p>Your search yielded no results.</p></div>\n',
    "script": '    <div id="search-app" data-results="none"></div>\n',
}


def _facets() -> str:
    items = "".join(f'<li><a href="/search?f%5B0%5D=places%3A{n}&amp;fo%5B0%5D={n}">{esc(p)}</a></li>'
                    for n, p in enumerate(W.PLACES[:12]))
    return f'    <aside class="facets"><h2>Associated Places</h2><ul>{items}</ul></aside>\n'


def _links(entries: list[ListingEntry], wrap: str) -> str:
    return "".join(wrap.format(href=f"/document/{attr(e.slug)}", title=esc(e.title))
                   for e in entries)


def _highlights_menu(entries: list[ListingEntry]) -> str:
    items = _links(entries[:3], '<li class="menu-item"><a href="{href}">{title}</a></li>')
    return (f'  <div class="mega-menu"><ul class="menu menu--highlights">{items}'
            '<li class="menu-item"><a href="/node/1">About</a></li></ul></div>\n')


def _sidebar(entries: list[ListingEntry]) -> str:
    rows = _links(entries, '<div class="views-row"><a href="{href}">{title}</a></div>')
    return (
        '  <div class="region region-sidebar-first"><div class="block '
        'block-views-blockfeatured-documents-block-1"><h2>Featured documents</h2>'
        f'<div class="view-content">{rows}</div></div></div>\n'
    )


def _related(entries: list[ListingEntry]) -> str:
    rows = _links(entries[-2:], '<li><a href="{href}">{title}</a></li>')
    return f'    <div class="related-documents"><h2>Related</h2><ul>{rows}</ul></div>\n'
