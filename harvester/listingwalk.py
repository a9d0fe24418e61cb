"""How a paged listing walk goes on after one page: the next page, the end, or a problem.

The walk follows page numbers while pages yield results; it does not depend on a pager's
markup or a `rel=next` link. It ends at a page past the end (no results) or at a short page
after full ones, and, when the page shows its results count ("21 - 30 of 81"), exactly at
the last result. A page that should hold results and yields no document links (the first
page, or a page after one whose count said more were to come) is a problem: the site's
markup is not what the extractor reads, or the listing is drawn by script. The walk then
stops with the reason, instead of finishing as if the archive were empty.

What the next page needs to know of this one travels with its request (`carry`), so the
decision is the same whichever process fetches the next page (Redis workers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class ListingPage(Protocol):
    """What a site's parse_listing returns (see harvester.sites.wilson.listing.Listing)."""

    document_urls: list[str]
    total: int | None
    shown_to: int | None
    says_empty: bool


@dataclass(frozen=True)
class Step:
    next_page: int | None  # the page to fetch next; None: the walk ends here
    problem: str | None = None  # the page could not be read: the walk stops with this reason
    carry: dict[str, Any] = field(default_factory=dict)  # for the next page's request meta


def next_step(page: int, listing: ListingPage, page_size: int,
              prior: dict[str, Any] | None = None) -> Step:
    """The walk's next step after listing page `page` (from 0). `page_size`: results asked
    for a page; `prior`: the previous page's `carry`, when this run fetched it."""
    prior = prior or {}
    found = len(listing.document_urls)
    total = listing.total if listing.total is not None else prior.get("total")
    if found == 0:
        return Step(None, _empty_page_problem(page, listing, prior))
    largest = max(int(prior.get("largest") or 0), found)
    carry = {"largest": largest, "total": total, "shown_to": listing.shown_to}
    if listing.shown_to is not None and total is not None:
        more = listing.shown_to < total
    else:  # no count: a short page after full ones is the last; else look at the next
        more = not (found < page_size and found < int(prior.get("largest") or 0))
    return Step(page + 1 if more else None, None, carry)


def _empty_page_problem(page: int, listing: ListingPage, prior: dict[str, Any]) -> str | None:
    if page == 0:
        said = " (the page says it has no results)" if listing.says_empty else ""
        return f"the first listing page holds no document links{said}"
    shown_to, total = prior.get("shown_to"), prior.get("total")
    if not listing.says_empty and shown_to is not None and total is not None \
            and shown_to < total:
        return (f"listing page {page} holds no document links, though the page before it "
                f"showed results to {shown_to} of {total}")
    return None  # past the end of the listing
