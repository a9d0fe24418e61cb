"""The Wilson Center Digital Archive listing page (`/search?...&page=N`): its results.

The live listing is a striped table (`td.document a`); mirrors, older themes and the
sample archive draw views rows, lists or cards. Results are found by their URL shape
(`/document/<slug>`, `/node/<nid>`) wherever they stand: the live table when there is one,
else the container holding the most distinct document links in separate children (a
results list of 10-100 rows outweighs a box of "featured" documents), after dropping every
link inside the site's chrome and side blocks (header, footer, menus, sidebars, "featured"
and "related" boxes). The walk follows page numbers (harvester/listingwalk.py); the pager's
markup is not known and is not needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import lxml.etree as etree

from harvester import cleaners
from harvester.sites.htmltext import element_text, parse_html
from harvester.sites.wilson import selectors as S

# Results asked for per listing page (the live site accepts items_per_page=100).
LISTING_PAGE_SIZE = 100
# Newest upload first, asked for explicitly: the live listing's default order is not known.
LISTING_QUERY = "items_per_page={size}&sort_bef_combine=created_DESC&sort_by=created&sort_order=DESC"
LIVE_HOSTS = frozenset({"digitalarchive.wilsoncenter.org", "www.digitalarchive.wilsoncenter.org"})


def listing_url(base_url: str, page: int, size: int = LISTING_PAGE_SIZE) -> str:
    """The URL of listing page `page` (from 0): `size` results, newest upload first."""
    query = LISTING_QUERY.format(size=int(size))
    return f"{base_url.rstrip('/')}/search?{query}&page={int(page)}"


@dataclass(frozen=True)
class Listing:
    """What a listing page offers: document URLs (absolute, page order, no duplicates, no
    /download links), the pager's next page URL if it shows one (informational: the walk
    follows page numbers), the result count, the last result shown ("21 - 30 of 81" -> 30)
    and whether the page says it has no results."""

    document_urls: list[str] = field(default_factory=list)
    next_url: str | None = None
    total: int | None = None
    shown_to: int | None = None
    says_empty: bool = False


def parse_listing(body: bytes, url: str, *, encoding: str | None = None) -> Listing:
    """Parse a listing page; a page that is not one gives an empty Listing."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    text = cleaners.decode_body(body, encoding) if body else ""
    root = parse_html(text) if text.strip() else None
    if root is None:
        return Listing()
    urls = result_urls(root, url)
    next_url = None
    for link in S.NEXT_PAGE(root):
        next_url = cleaners.absolute_url(url, link.get("href"))
        if next_url:
            break
    total, shown_to = _count(root)
    says_empty = not urls and bool(S.NO_RESULTS.search(_main_text(root)))
    return Listing(urls, next_url, total, shown_to, says_empty)


# --- results -----------------------------------------------------------------------------
def result_urls(root: etree._Element, page_url: str) -> list[str]:
    """The page's result document URLs, in page order, without duplicates."""
    hosts = {urlsplit(page_url).hostname} | LIVE_HOSTS
    chrome: dict[etree._Element, bool] = {}
    live = [link for link in S.LISTING_LIVE_LINKS(root)
            if _document_url(link, page_url, hosts) and not _in_chrome(link, chrome)]
    if live:
        return _unique(_document_url(link, page_url, hosts) for link in live)
    links: list[tuple[etree._Element, str]] = []
    for link in root.iter("a"):
        href = _document_url(link, page_url, hosts)
        if href and not _in_chrome(link, chrome):
            links.append((link, href))
    if not links:
        return []
    container = _results_container(links)
    if container is None:
        return _unique(href for _, href in links)
    peers = _peers(root, container)
    rows: list[str] = []
    for link, href in links:
        if any(_is_ancestor(peer, link) for peer in peers):
            rows.append(href)
    return _unique(rows)


def _document_url(link: etree._Element, page_url: str, hosts: set[str | None]) -> str | None:
    raw = (link.get("href") or "").strip()
    if not raw or raw.startswith("#"):  # "Skip to content" and other in-page anchors
        return None
    href = cleaners.absolute_url(page_url, raw)
    if not href:
        return None
    parts = urlsplit(href)
    if parts.hostname not in hosts or not S.DOCUMENT_LINK_PATH.match(parts.path):
        return None
    if S.LISTING_EXCLUDE.search(href):
        return None
    # a document is its path: a query (search highlighting, a tracking tag) or a trailing
    # slash would give the same page another identity, and the walk's seen markers with it
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _in_chrome(element: etree._Element, memo: dict[etree._Element, bool]) -> bool:
    """Inside the site's chrome or a side block (ancestors up to, not including, <body>:
    themes put layout words such as "one-sidebar" on <body>)."""
    path: list[etree._Element] = []
    node = element.getparent()
    found = False
    while node is not None and node.tag not in ("body", "html"):
        if node in memo:
            found = memo[node]
            break
        path.append(node)
        if _is_chrome(node):
            found = True
            break
        node = node.getparent()
    for seen in path:
        memo[seen] = found
    return found


def _is_chrome(node: etree._Element) -> bool:
    if node.tag in S.CHROME_TAGS:
        return True
    if (node.get("role") or "").lower() in S.CHROME_ROLES:
        return True
    names = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
    if not names.strip():
        return False
    if any(part in names for part in S.CHROME_SUBSTRINGS):
        return True
    return any(word in S.CHROME_WORDS for word in S.CLASS_WORDS.findall(names))


def _results_container(links: list[tuple[etree._Element, str]]) -> etree._Element | None:
    """The element with the most children that bring it a document URL it has not had
    (a table body, a list, a views container): a row's second link to its own document
    does not count, a box of five featured documents loses to a page of results."""
    seen: dict[etree._Element, set[str]] = {}
    counted: dict[etree._Element, set[etree._Element]] = {}
    for link, href in links:
        child = link
        node = link.getparent()
        while node is not None:
            urls = seen.setdefault(node, set())
            if href not in urls:
                urls.add(href)
                counted.setdefault(node, set()).add(child)
            child = node
            node = node.getparent()
    best, best_score = None, 0
    for node, children in counted.items():  # a path's deeper nodes come first: ties go deep
        if len(children) > best_score:
            best, best_score = node, len(children)
    return best


def _peers(root: etree._Element, container: etree._Element) -> list[etree._Element]:
    """The container and its look-alikes (same tag and class, parents of the same tag and
    class): results grouped in several lists of one kind, e.g. views grouped by year."""
    parent = container.getparent()
    if parent is None:
        return [container]
    signature = (container.get("class"), parent.tag, parent.get("class"))
    return [el for el in root.iter(container.tag)
            if (el.get("class"), *_parent_signature(el)) == signature]


def _parent_signature(element: etree._Element) -> tuple[str | None, str | None]:
    parent = element.getparent()
    return (None, None) if parent is None else (parent.tag, parent.get("class"))


def _is_ancestor(ancestor: etree._Element, element: etree._Element) -> bool:
    node: etree._Element | None = element
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def _unique(urls: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(u for u in urls if u))


# --- the count ---------------------------------------------------------------------------
def _count(root: etree._Element) -> tuple[int | None, int | None]:
    """(total, last result shown) from the results count, when the page shows one: in the
    known count elements, else in a short text of the page's main part that is not a link
    (a title such as "The 1948 Documents" is no count)."""
    known = [element_text(el) for el in S.RESULTS_COUNT(root)]
    for texts in (known, None):
        if texts is None:
            texts = _short_texts(_main(root))
        for text in texts:
            match = S.RANGE_OF.search(text)
            if match:
                return _number(match.group(3)), _number(match.group(2))
        for text in texts:
            match = S.TOTAL_OF.search(text) or S.TOTAL_ANY.match(text)
            if match:
                return _number(next(g for g in match.groups() if g)), None
    return None, None


def _short_texts(main: etree._Element) -> list[str]:
    out = []
    for el in main.iter(etree.Element):
        if el.tag in ("a", "script", "style") or len(el) > 4:
            continue
        text = "".join(el.itertext())
        if len(text) > 4 * S.COUNT_TEXT_MAX or not _has_digit(text):
            continue
        text = cleaners.normalize_space(text)
        if len(text) <= S.COUNT_TEXT_MAX and not any(a.tag == "a" for a in el.iterancestors()):
            out.append(text)
    return out


_ASCII_DIGIT = re.compile("[0-9]")


def _has_digit(text: str) -> bool:
    """any(ch.isdigit() for ch in text), without a Python step per character when the text
    is ASCII (where the digits are 0-9)."""
    if text.isascii():
        return _ASCII_DIGIT.search(text) is not None
    return any(ch.isdigit() for ch in text)


def _number(text: str) -> int | None:
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else None


def _main(root: etree._Element) -> etree._Element:
    mains = root.xpath("//main|//*[@role='main']|//*[@id='main-content']")
    return mains[0] if mains else root


def _main_text(root: etree._Element) -> str:
    """The text of the page's main part (where "no results" stands)."""
    return element_text(_main(root))
