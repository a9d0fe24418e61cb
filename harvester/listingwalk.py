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
decision is the same whichever process fetches the next page (Redis workers). So do the
walk's first `state` (what a complete walk keeps, e.g. an OAI-PMH Identify's responseDate:
a worker that never read that step keeps it all the same) and, in a walk a source split
into branches (harvester.source.FanOut), the branch the page belongs to ("" before any
split, "3" the fourth branch of the first split, "3.0" the first of a split inside it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from harvester.source import FanOut


class ListingPage(Protocol):
    """What a site's parse_listing returns (see harvester.sites.wilson.listing.Listing)."""

    document_urls: list[str]
    total: int | None
    shown_to: int | None
    says_empty: bool


@dataclass(frozen=True)
class Step:
    next_page: Any  # the cursor to fetch next (a page number for paged listings); None: the end
    problem: str | None = None  # the page could not be read: the walk stops with this reason
    carry: dict[str, Any] = field(default_factory=dict)  # for the next page's request meta
    repeated: bool = False  # the page repeats the one before it (past the end of the listing)

    def following(self) -> list[tuple[Any, dict[str, Any]]]:
        """The listing steps to request after this one, each (cursor, carry): the next
        step; one a branch where the walk splits (a FanOut: each branch's carry holds the
        walk's state and the branch's id, not this page's counts); none at the end."""
        if self.next_page is None:
            return []
        if not isinstance(self.next_page, FanOut):
            return [(self.next_page, self.carry)]
        parent = branch_of(self.carry)
        kept = {k: v for k, v in self.carry.items() if k == "state"}
        return [(cursor, {**kept, "branch": f"{parent}.{n}" if parent else str(n)})
                for n, cursor in enumerate(self.next_page.cursors)]


def branch_of(carry: dict[str, Any] | None) -> str:
    """The branch of the walk a listing step with this carry belongs to ("" unsplit)."""
    return str((carry or {}).get("branch") or "")


_UNSET: Any = object()


def next_step(page: Any, listing: ListingPage, page_size: int,
              prior: dict[str, Any] | None = None, *, first: bool | None = None,
              following: Any = _UNSET) -> Step:
    """The walk's next step after the listing step at cursor `page` (a page number from 0
    for paged listings; any cursor of a source). `page_size`: results asked for a page;
    `prior`: the previous step's `carry`, when this run fetched it; `first`: the step is
    the listing's first (default: page 0); `following`: the cursor after this one when more
    results follow (default: page + 1; None: the source says the listing ends here)."""
    prior = prior or {}
    if first is None:
        first = page == 0
    if following is _UNSET:
        following = page + 1
    if isinstance(following, FanOut) and not following.cursors:
        following = None  # a split into no branch: the end
    walk = _walk_carry(prior, listing)
    if getattr(listing, "skip", False):  # no results by nature: on to the next step
        return Step(following, None, {**prior, **walk})
    urls = list(listing.document_urls) + [
        str(r.get("url") or r.get("record_id")) for r in getattr(listing, "records", None) or []
    ] + [f"withdrawn:{rid}" for rid in getattr(listing, "withdrawn", None) or []]
    total = listing.total if listing.total is not None else prior.get("total")
    if not urls:
        return Step(None, _empty_page_problem(describe(page), first, listing, prior), walk)
    digest = page_digest(urls)
    if prior.get("digest") == digest and not getattr(listing, "may_repeat", False):
        return Step(None, carry=walk, repeated=True)  # the page before it again: past the end
    carry = {"total": total, "shown_to": listing.shown_to, "digest": digest, **walk}
    more = listing.shown_to < total if listing.shown_to is not None and total is not None \
        else True
    return Step(following if more else None, None, carry)


def _walk_carry(prior: dict[str, Any], listing: Any) -> dict[str, Any]:
    """What every step of the walk carries on: its branch, and the walk's first state."""
    out: dict[str, Any] = {}
    if prior.get("branch"):
        out["branch"] = prior["branch"]
    state = prior.get("state") or getattr(listing, "state", None)
    if state is not None:
        out["state"] = dict(state)
    return out


def describe(cursor: Any) -> str:
    """A cursor as messages name it: "3" for page 3, a token or a window as JSON."""
    if isinstance(cursor, (int, str)):
        return str(cursor)
    import json

    return json.dumps(cursor, sort_keys=True, ensure_ascii=False)


def page_digest(urls: list[str]) -> str:
    """A short fingerprint of a page's result URLs (which page it is does not matter)."""
    return hashlib.blake2b("\n".join(urls).encode("utf-8"), digest_size=8).hexdigest()


def _empty_page_problem(page: str, first: bool, listing: ListingPage,
                        prior: dict[str, Any]) -> str | None:
    if first:
        said = " (the page says it has no results)" if listing.says_empty else ""
        return f"the first listing page holds no document links{said}"
    shown_to, total = prior.get("shown_to"), prior.get("total")
    if not listing.says_empty and shown_to is not None and total is not None \
            and shown_to < total:
        return (f"listing page {page} holds no document links, though the page before it "
                f"showed results to {shown_to} of {total}")
    return None  # past the end of the listing
