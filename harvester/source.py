"""The Source protocol: what the engine needs to know of one archive.

A source is one archive's way in: how a walk of its listing starts, what one listing step
yields, where the walk goes next, how a document page becomes a record, and the fields of
its own that its records carry on top of the core schema. Everything else (modes,
campaigns, incremental walks, dedup, versions, the store, the spool, WARC captures, the
run report, exports, Redis workers) is the engine's, and knows no source by name.

A source is registered under its name in the entry point group `harvester.sources`
(harvester/registry.py), so it can live in a package of its own:

    [project.entry-points."harvester.sources"]
    myarchive = "myarchive.source:SOURCE"

The walk follows *cursors*: opaque JSON values (a page number, a resumption token, a next
link, a date window and a token) that only the source reads. The engine stores them in the
backfill campaign and the incremental walk (state/<site>/backfill.json, incremental.json),
so an interrupted walk resumes at the last listing step whose documents were all stored.
In a crawl shared by --redis workers a source may split its walk into independent branches
(`FanOut`, when WalkStart.shared), so that the workers walk them in parallel.

`parse_listing` and `parse_document` run in the extraction worker processes
(harvester/extractpool.py): they must be module-level functions, or methods of a source
object that pickles (a module-level instance of a dataclass of plain values).

See docs/architecture.md ("Adding a source") for a source written from scratch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Cursor = Any  # a JSON value only the source reads: int, str, list or dict of them


@dataclass(frozen=True)
class WalkStart:
    """What the engine knows when a walk of the listing starts.

    mode: "backfill" (the whole listing) or "incremental" (what is new).
    resume: the cursor an open backfill campaign stopped at (None: from the start).
    previous: the `state` (see ListingStep) that the last complete walk or campaign kept,
    e.g. an OAI-PMH responseDate to harvest `from`; None when there is none.
    shared: the walk is spread over the workers of a shared crawl (--redis): the source
    may split it into independent branches (`FanOut`) that the workers walk in parallel.
    A walk of one process is never split (it keeps one resume cursor)."""

    mode: str
    resume: Cursor | None = None
    previous: Mapping[str, Any] | None = None
    shared: bool = False


@dataclass(frozen=True)
class FanOut:
    """Where a shared walk splits: `Source.next_cursor` (or ListingStep.next) may return
    one instead of a cursor. Each cursor begins an independent branch of the listing (an
    OAI-PMH date window with its own resumption tokens), walked to its own end; the
    workers of the crawl take the branches in parallel, and the walk has reached the
    listing's end once every branch has. Only for a walk whose WalkStart says `shared`."""

    cursors: tuple[Cursor, ...] = ()


@dataclass(frozen=True)
class ListingRequest:
    """How to fetch one listing step."""

    url: str
    method: str = "GET"
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    # HTTP statuses besides 2xx whose body is still the step's to read: a protocol whose
    # servers send its own error answers with them (OAI-PMH's noRecordsMatch as a 404,
    # badResumptionToken as a 400); a body the source cannot read then stops the walk
    # with the status in the reason, as any failed fetch does
    read_statuses: tuple[int, ...] = ()


@dataclass(frozen=True)
class ListingStep:
    """What one listing step yields (a source may return its own type with these
    attributes; `records`, `next` and `state` may be left out).

    document_urls: documents to fetch, in listing order, absolute, no duplicates.
    records: records that arrive whole in the listing (OAI-PMH's ListRecords), each the
      fields `parse_document` would give, with its `url`.
    total: the listing's count of results when it shows one; shown_to: the position of its
      last result shown ("21 - 30 of 81" -> 30); both let the walk end exactly at the end
      and check that it met every result.
    says_empty: the step says it has no results (not an unreadable page).
    next: the source's own next cursor read off the step (a resumption token, a next
      link), or a FanOut (a shared walk splits there); None lets `Source.next_cursor`
      decide (page numbers need no link).
    state: what to keep when the walk completes, for the next walk's WalkStart.previous.
    problems: records of the step that could not be read: (identifier, reason, raw bytes),
      quarantined by the engine while the rest of the step is used.
    withdrawn: record ids the listing says the archive no longer offers (OAI-PMH's
      status="deleted"): their stored records become withdrawn records (content kept).
    skip: the step holds no results by nature (an OAI-PMH Identify, a date window that
      answered noRecordsMatch): the walk goes on to `next` (or ends without one), never
      taking it for an unreadable or empty listing.
    may_repeat: the step may show what the step before it showed without that being the
      listing's end (a page-number pager clamped to its last page is; an OAI-PMH window
      whose first page shows the granule it shares with the window before is not)."""

    document_urls: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    total: int | None = None
    shown_to: int | None = None
    says_empty: bool = False
    next: Cursor | None = None
    state: Mapping[str, Any] | None = None
    problems: list[tuple[str, str, bytes]] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    skip: bool = False
    may_repeat: bool = False


@runtime_checkable
class Source(Protocol):
    """One archive, as the engine reads it."""

    name: str  # the store's key for it: records/<name>/..., `harvester harvest <name>`
    live_base_url: str  # where `harvester harvest` goes without --base-url
    archive_name: str  # named in BagIt bag-info.txt and as dc:publisher
    home_page: str
    listing_page_size: int  # results one listing step asks for (HARVESTER_LISTING_PAGE_SIZE)
    # True: the listing shows the newest uploads first, so an incremental walk ends at the
    # first document harvested before it. False: the source's cursor bounds an incremental
    # walk itself (OAI-PMH's `from`), and the walk ends where the listing ends.
    newest_first: bool
    # JSON Schema properties of the source's own record fields, validated with the core
    # schema's (harvester/schema/record.schema.json); {} for none.
    record_fields: Mapping[str, Mapping[str, Any]]
    # Optional: `field_order` (a tuple of every field name: the order of its records' fields;
    # default the core schema's, then its own fields), `withdraw_check` (False: the source's
    # listing reports deletions itself, no end-of-backfill check at the documents' URLs),
    # `withdraw_check_for(state)` (whether a complete backfill runs that check, decided from
    # the campaign's ListingStep.state: an OAI-PMH repository's deletedRecord),
    # `check_url(record_id, url)` (where the check asks for a record: OAI-PMH's GetRecord),
    # `peek_next(cursor, body)` (a guess at the next cursor off the raw response, so a
    # chained listing's next page is asked for while this one is parsed: harvester/
    # lookahead.py; None for no guess), and `select_records(cursor, records)` (the whole
    # records of a step that belong to the walk at `cursor`; the rest are not stored:
    # OAI-PMH keeps a set's walk to that set when token pages forget it).

    def start(self, walk: WalkStart) -> Cursor:
        """The cursor of the walk's first listing step."""
        ...

    def listing_request(self, base_url: str, cursor: Cursor, page_size: int) -> ListingRequest:
        """The request of the listing step at `cursor`, on `base_url` (the live site, a
        mirror or a look-alike)."""
        ...

    def parse_listing(self, body: bytes, url: str) -> Any:
        """The listing step's ListingStep (or an object with its attributes). Raises
        harvester.exceptions.ExtractionError for a page that is no listing at all."""
        ...

    def next_cursor(self, cursor: Cursor, step: Any) -> Cursor | None:
        """Where the walk goes after the step at `cursor` when the step says more follow
        (None: the walk, or this branch of a split walk, ends here; a FanOut: a shared walk
        splits into branches here)."""
        ...

    def parse_document(self, body: bytes, url: str, **options: Any) -> dict[str, Any]:
        """The record fields of a document page. Options the engine passes: `encoding` (the
        charset the response declared); `harvester extract` also passes `prefer_canonical`
        (take the page's canonical link for its URL). Raises ChallengePage for a bot
        challenge, NotADocument for a page that is no document (error page, listing),
        another ExtractionError for a document that cannot be read."""
        ...

    def is_challenge(self, body: bytes) -> bool:
        """The body is a bot-manager challenge, not the page asked for."""
        ...


def step_records(step: Any) -> list[dict[str, Any]]:
    return list(getattr(step, "records", None) or [])


def step_next(step: Any) -> Cursor | None:
    return getattr(step, "next", None)


def step_state(step: Any) -> Mapping[str, Any] | None:
    return getattr(step, "state", None)


def step_problems(step: Any) -> list[tuple[str, str, bytes]]:
    return list(getattr(step, "problems", None) or [])


def step_withdrawn(step: Any) -> list[str]:
    return list(getattr(step, "withdrawn", None) or [])


def step_skips(step: Any) -> bool:
    return bool(getattr(step, "skip", False))
