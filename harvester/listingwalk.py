"""How a paged listing walk goes on after one page: the next page, the end, or a problem.

The walk follows page numbers while pages yield results; it does not depend on a pager's
markup or a `rel=next` link. When the page shows its results count ("21 - 30 of 81") the
walk ends exactly at the last result. Without a count it goes on until a page past the end:
a page with no results, or a page that repeats the one before it (Drupal's pager answers a
page number past the last with the last page again). A short page is not taken for the end
without a count: an index entry that renders no row makes a page in the middle short too.

A page that should hold results and yields no document links (the first page, or a page
after one whose count said more were to come) is a problem: the site's markup is not what
the extractor reads, or the listing is drawn by script. The walk then stops with the
reason, instead of finishing as if the archive were empty.

What the next page needs to know of this one travels with its request (`carry`), so the
decision is the same whichever process fetches the next page (Redis workers).
"""

from __future__ import annotations

import hashlib
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
    repeated: bool = False  # the page repeats the one before it (past the end of the listing)


def next_step(page: int, listing: ListingPage, page_size: int,
              prior: dict[str, Any] | None = None) -> Step:
    """The walk's next step after listing page `page` (from 0). `page_size`: results asked
    for a page; `prior`: the previous page's `carry`, when this run fetched it."""
    prior = prior or {}
    urls = listing.document_urls
    total = listing.total if listing.total is not None else prior.get("total")
    if not urls:
        return Step(None, _empty_page_problem(page, listing, prior))
    digest = page_digest(urls)
    if prior.get("digest") == digest:  # the page before it again: past the end
        return Step(None, repeated=True)
    carry = {"total": total, "shown_to": listing.shown_to, "digest": digest}
    more = listing.shown_to < total if listing.shown_to is not None and total is not None \
        else True
    return Step(page + 1 if more else None, None, carry)


def page_digest(urls: list[str]) -> str:
    """A short fingerprint of a page's result URLs (which page it is does not matter)."""
    return hashlib.blake2b("\n".join(urls).encode("utf-8"), digest_size=8).hexdigest()


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
