"""The Wilson Center Digital Archive listing page (`/search?page=N`): links and the pager."""

from __future__ import annotations

from dataclasses import dataclass, field

from harvester import cleaners
from harvester.sites.htmltext import element_text, parse_html
from harvester.sites.wilson import selectors as S


# Results asked for per listing page (the live site accepts items_per_page=100).
LISTING_PAGE_SIZE = 100
# Newest upload first, asked for explicitly: the live listing's default order is not known.
LISTING_QUERY = "items_per_page={size}&sort_bef_combine=created_DESC&sort_by=created&sort_order=DESC"


def listing_url(base_url: str, page: int) -> str:
    """The URL of listing page `page` (from 0): 100 results, newest upload first."""
    query = LISTING_QUERY.format(size=LISTING_PAGE_SIZE)
    return f"{base_url.rstrip('/')}/search?{query}&page={int(page)}"


@dataclass(frozen=True)
class Listing:
    """What a listing page offers: document URLs (absolute, page order, no duplicates, no
    /download links), the next page's URL (None on the last page) and the result count."""

    document_urls: list[str] = field(default_factory=list)
    next_url: str | None = None
    total: int | None = None


def parse_listing(body: bytes, url: str, *, encoding: str | None = None) -> Listing:
    """Parse a listing page; a page that is not one gives an empty Listing."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    text = cleaners.decode_body(body, encoding) if body else ""
    root = parse_html(text) if text.strip() else None
    if root is None:
        return Listing()
    links = S.LISTING_LINKS(root) or S.LISTING_LINKS_FALLBACK(root)
    urls: list[str] = []
    for link in links:
        href = cleaners.absolute_url(url, link.get("href"))
        if href and not S.LISTING_EXCLUDE.search(href):
            urls.append(cleaners.strip_fragment(href))
    next_url = None
    for link in S.NEXT_PAGE(root):
        next_url = cleaners.absolute_url(url, link.get("href"))
        if next_url:
            break
    return Listing(list(dict.fromkeys(urls)), next_url, _total(root))


def _total(root: object) -> int | None:
    for element in S.RESULTS_COUNT(root):
        text = element_text(element)
        match = S.TOTAL_OF.search(text) or S.TOTAL_ANY.search(text)
        if match:
            digits = "".join(ch for ch in match.group(1) if ch.isdigit())
            if digits:
                return int(digits)
    return None
