"""OaiSource: any OAI-PMH 2.0 repository as a Source of the engine.

The walk (each step one request, so a failed page is retried like any other):

1. Identify (a `skip` step): granularity, earliestDatestamp, deletedRecord, responseDate.
2. Backfill: ListRecords in date windows from earliestDatestamp to Identify's responseDate
   (the first window asked for without `from`, so records older than a misreported
   earliestDatestamp still come; the last open-ended; at day granularity each sharing its
   first day with the one before, for servers that misread `until`), for each set asked
   for (or the whole repository); each window is chained by resumption tokens. Windows
   start at ~1/`windows` of the span and adapt: an empty or sparse window (a quarter of
   `window_records` or less) doubles the next, one of more than `window_records` halves it
   (never below one granule). `from`/`until` are never finer than the granularity.
3. Incremental: one open window per set `from` the previous complete walk's responseDate,
   one granule back (WalkStart.previous); Identify is not asked again when the previous
   walk knew the granularity, so a run with nothing new costs one list request.

A backfill shared by --redis workers (WalkStart.shared) is planned at once instead: after
Identify, the span is cut into about `windows` date windows of equal length for each set
(the last open-ended), returned as a FanOut, so every window's first ListRecords request is
queued at once and the workers take different windows in parallel, each window chained by
its own resumption tokens and ending the walk's branch at its end (no window waits for
another). A window whose first page counts more than `window_records` is halved instead
(a FanOut again, down to one granule), so crowded datestamps still spread. The shared
dupefilter keeps two workers from ever holding the same token chain; a killed worker's
page goes back to the queue and its window resumes there.

Cursors are small JSON dicts (verb, set, window bounds, token, the last datestamp seen in
the window...). The engine stores the cursor of the last listing step whose records were
all stored, so a killed backfill resumes at that page. A token the repository refuses
(badResumptionToken: expired, the server restarted) restarts its window from the last
datestamp seen in it (from its start when the records did not come in datestamp order):
it costs at most the rest of the window, never the walk. A token that repeats, a page
that repeats the one before it, or a window of more than `max_pages` pages stops the walk
with a clear reason (exit status 6); so does any other OAI-PMH error but noRecordsMatch
(nothing in that window: a skip step). A truncated response is fetched again (up to
`max_retries` times). A repository that does not keep to its windows (their from/until
refused, or a page listing a record datestamped after its window's `until`) is read
without them: the set again as one list, and every later set alike ("whole" cursors). A
set's walk keeps only the records whose headers name that set or one below it
(`select_records`: token pages that drop the set list the whole repository).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from harvester.exceptions import ExtractionError, NotADocument, RecordGone
from harvester.sites.oai import dates
from harvester.sites.oai.mapping import RECORD_FIELDS, get_record_url, oai_url, to_fields
from harvester.sites.oai.response import OaiResponse, peek_list_end, peek_token, read
from harvester.source import Cursor, FanOut, ListingRequest, WalkStart

log = logging.getLogger(__name__)

# statuses whose body is read as an OAI-PMH answer (403 is not: it stops the source, and
# 429/503 are retried after their Retry-After; a 500 is read once its retries are spent)
OAI_ERROR_STATUSES = (400, 404, 410, 422, 500)


@dataclass(frozen=True)
class OaiListingRequest(ListingRequest):
    # A request asked again on purpose (a truncated page fetched again, a window restarted)
    # is not dropped as a duplicate; any other is (Redis workers share one dupefilter, so
    # two workers never hold the same token chain).
    dont_filter: bool = False
    # OAI-PMH says its errors come with HTTP 200, but some servers send them with another
    # status (Europeana's: noRecordsMatch and idDoesNotExist as 404, badArgument and
    # badResumptionToken as 400, noSetHierarchy as 500): the body decides, so an empty
    # window is not taken for a failed fetch nor an expired token for the end of the walk
    read_statuses: tuple[int, ...] = OAI_ERROR_STATUSES


@dataclass
class OaiStep:
    """One OAI-PMH response as a listing step (ListingStep's attributes and the source's)."""

    kind: str  # identify | list | no_records | bad_token | truncated
    document_urls: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    problems: list[tuple[str, str, bytes]] = field(default_factory=list)
    state: dict[str, Any] | None = None
    skip: bool = False
    total: int | None = None
    shown_to: int | None = None
    says_empty: bool = False
    next: Cursor | None = None
    token: str | None = None
    identify: dict[str, Any] = field(default_factory=dict)
    first_stamp: str | None = None
    last_stamp: str | None = None
    in_order: bool = True
    count: int = 0
    complete: int | None = None  # the resumptionToken's completeListSize
    digest: str = ""
    cleaned: int = 0
    # a window's first page may show what the last page of the window before it showed (the
    # granule they share, a server that ignores from/until): not the end of the walk, as a
    # page number's repeat is; a token page repeating its own window's is (next_cursor)
    may_repeat: bool = True


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def _later(a: str | None, b: str | None) -> str | None:
    pa, pb = dates.parse(a), dates.parse(b)
    if pa is None:
        return b
    if pb is None:
        return a
    return a if pa >= pb else b


def _next_start(until: datetime, granularity: str, span: int) -> datetime:
    """Where the window after one ending at `until` (inclusive) starts. At day granularity
    at `until` itself, so the two share that day: OAI-PMH's `until` is inclusive, but a
    server that reads a day as its midnight (`until=2024-01-02` as 2024-01-02T00:00:00Z,
    against datestamps it keeps in seconds) or as exclusive would otherwise lose every
    boundary day's records for good; a record listed twice is stored once. At seconds
    granularity the next second (a boundary second rarely holds a record, and sharing it
    would list that record, and fetch its files, twice). A window of one granule (crowded
    datestamps) is followed by the next granule: sharing it would not move the walk on."""
    unit = dates.granule(granularity)
    if granularity == dates.DAY and span > unit.total_seconds():
        return until
    return until + unit


def _not_before(a: str | None, b: str | None) -> bool:
    """Datestamp `a` is not before `b` (True when either is unknown)."""
    pa, pb = dates.parse(a), dates.parse(b)
    return pa is None or pb is None or pa >= pb


# a window holding at most 1/SPARSE_SHARE of window_records doubles the next (as an empty one)
SPARSE_SHARE = 4


@dataclass(frozen=True)
class OaiSource:
    name: str
    endpoint: str
    sets: tuple[str, ...] = ()
    metadata_prefix: str = "oai_dc"
    archive_name: str = ""
    windows: int = 16  # a backfill's span is cut into about this many date windows at first
    window_records: int = 20000  # a window holding more halves the next one (a quarter
    # of it or less doubles the next: SPARSE_SHARE)
    max_pages: int = 100000  # pages of one window before the list is taken for endless
    max_retries: int = 3  # fetches again of a truncated page, restarts of a window
    listing_page_size: int = 0  # the repository decides its page size
    newest_first: bool = False
    # Deleted records come from the listing itself; a repository that does not report every
    # deletion (deletedRecord no or transient) gets the end-of-backfill check: the stored
    # records a complete backfill did not meet are asked for with GetRecord.
    withdraw_check: bool = True
    reconcile: str = "auto"  # auto (deletedRecord no/transient) | always | never
    # hosts besides the endpoint's whose file links are downloaded ("*": any host): a
    # repository whose PDFs and scans live on a CDN or a separate bitstream host
    file_hosts: tuple[str, ...] = ()
    record_fields: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: dict(RECORD_FIELDS))
    # a ListRecords page brings its records whole (100 or more): all of them in flight at
    # once share one journal part and one durability barrier (the engine's default of 8
    # suits document pages, one record each); their seen markers go in batches, a page at
    # a time, whatever the store (a marker file per record doubles a local backfill's
    # file writes, and this walk never reads a marker per record)
    # a page of rich metadata (METS, MARCXML, EDM) at a few hundred records runs to tens of
    # MB: the cap on a response is 64 MB here, not an HTML page's 8 (-s still decides)
    # HARVESTER_COVERAGE_EXIT off: a field's coverage falling is the repository's metadata
    # (new records catalogued with less), not a misread page: reported, exit 0
    spider_settings: ClassVar[Mapping[str, Any]] = {"CONCURRENT_ITEMS": 100,
                                                    "HARVESTER_SEEN_BATCH": "on",
                                                    "HARVESTER_HTML_MAXSIZE": 64 * 1024 * 1024,
                                                    "HARVESTER_COVERAGE_EXIT": False}
    # a GetRecord check answered 404 or 410 is read first (idDoesNotExist sent as a 404 is
    # the repository's word that the record is gone, not a page that was not found)
    check_read_statuses: ClassVar[tuple[int, ...]] = OAI_ERROR_STATUSES
    # an endpoint that moved answers its requests with a redirect to its new host: followed
    # (harvester/middlewares/scope.py), as OAI-PMH clients do
    follow_listing_redirects: ClassVar[bool] = True

    @property
    def live_base_url(self) -> str:
        return self.endpoint

    @property
    def home_page(self) -> str:
        parts = urlsplit(self.endpoint)
        return f"{parts.scheme}://{parts.netloc}/"

    def __post_init__(self) -> None:
        if not self.archive_name:
            object.__setattr__(self, "archive_name", self.name)

    # --- the walk ---------------------------------------------------------------------
    def start(self, walk: WalkStart) -> Cursor:
        if walk.resume is not None:
            return walk.resume
        if walk.shared and walk.mode == "backfill":
            return {"verb": "Identify", "split": True}  # windows planned at once: a FanOut
        previous = walk.previous or {}
        since = dates.parse(previous.get("response_date"))
        granularity = previous.get("granularity")
        if walk.mode == "incremental" and since is not None and granularity in (dates.DAY,
                                                                                dates.SECONDS):
            return self._window_cursor(self._since(since, granularity), granularity,
                                       self._first_set(), None, None, 0)
        cursor: dict[str, Any] = {"verb": "Identify"}
        if walk.mode == "incremental" and since is not None:
            cursor["since"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        return cursor

    def _since(self, since: Any, granularity: str) -> str:
        """`from` one granule before the previous walk's responseDate (seconds), or that
        day itself (days): the overlap that no clock skew or same-second change escapes."""
        start = dates.floor(since, granularity)
        if granularity == dates.SECONDS:
            start -= dates.granule(granularity)
        return dates.fmt(start, granularity)

    def _first_set(self) -> str | None:
        return self.sets[0] if self.sets else None

    def _next_set(self, spec: str | None) -> tuple[bool, str | None]:
        if not self.sets or spec not in self.sets:
            return False, None
        index = self.sets.index(spec) + 1
        return (True, self.sets[index]) if index < len(self.sets) else (False, None)

    def _window_cursor(self, start: str | None, granularity: str, spec: str | None,
                       until: str | None, end: str | None, span: int,
                       origin: str | None = None) -> dict[str, Any]:
        return {"verb": "ListRecords", "g": granularity, "set": spec,
                "origin": origin if origin is not None else start, "start": start,
                "from": start, "until": until, "end": end, "span": span, "token": None,
                "last": None, "ordered": True, "pages": 0, "records": 0, "recent": [],
                "digest": "", "restarts": 0, "retries": 0}

    def _first_window(self, origin: str | None, granularity: str, spec: str | None,
                      end: str | None, span: int, *, open_start: bool = False
                      ) -> dict[str, Any]:
        """The first window of a set: from `origin` (earliestDatestamp; an incremental
        walk's `from`), `span` seconds long (0: open-ended). `open_start` (a backfill): the
        window is asked for without `from`, so records datestamped before the
        earliestDatestamp Identify gave (a repository that misreports it) still come; its
        span is still counted from `origin`."""
        start = dates.parse(origin)
        stop = dates.parse(end)
        if start is None or stop is None or span <= 0:
            window = self._window_cursor(origin, granularity, spec, None, end, 0, origin)
        else:
            until = start + timedelta(seconds=span) - dates.granule(granularity)
            open_ended = until >= stop
            window = self._window_cursor(dates.fmt(start, granularity), granularity, spec,
                                         None if open_ended else dates.fmt(until, granularity),
                                         end, span, origin)
        if open_start:
            window.update({"from": None, "start": None, "open": True})  # "open": so is
            # every set's first window after it (the walk's windows carry it on)
        return window

    def _planned_windows(self, origin: str | None, granularity: str, end: str | None,
                         span: int) -> Cursor:
        """A shared backfill's windows, all at once: for each set, from `origin` to `end`
        (Identify's responseDate) in windows `span` seconds long, the last open-ended; each
        window is a branch of the walk (its end is the branch's end)."""
        windows = []
        for spec in self.sets or (None,):
            window = self._first_window(origin, granularity, spec, end, span, open_start=True)
            while True:
                windows.append(dict(window, split=True))
                until = dates.parse(window.get("until"))
                if until is None:
                    break
                start = _next_start(until, granularity, span)
                stop = dates.parse(end)
                following = start + timedelta(seconds=span) - dates.granule(granularity)
                last = stop is None or following >= stop
                window = self._window_cursor(dates.fmt(start, granularity), granularity, spec,
                                             None if last else dates.fmt(following, granularity),
                                             end, span, origin)
        return windows[0] if len(windows) == 1 else FanOut(tuple(windows))

    def _halves(self, cursor: dict[str, Any], step: Any) -> FanOut | None:
        """A planned window of a shared backfill whose first page counts more than
        `window_records` records: the window split in two halves (the open-ended one: what
        lies before the walk's end, in halves, and what lies after it), each a branch of
        its own, instead of walking its tokens alone. The first page's records, stored
        already, are listed again in the first half (unchanged). None: walk on."""
        if not cursor.get("split") or cursor.get("pages") or cursor.get("token") \
                or not step.complete or step.complete <= self.window_records:
            return None
        granularity = cursor.get("g") or dates.DAY
        unit = dates.granule(granularity)
        open_start = cursor.get("from") is None  # a backfill's first window: no `from`
        start = dates.parse(cursor.get("from") or cursor.get("origin"))
        stop = dates.parse(cursor.get("until") or cursor.get("end"))
        if start is None or stop is None:
            return None
        stop = dates.floor(stop, granularity)
        if stop - start < unit:
            return None  # one granule: no finer window to ask for
        middle = dates.floor(start + (stop - start) / 2, granularity)
        if middle >= stop:
            middle = stop - unit
        # days: the halves share their boundary day (see _next_start) when the window is
        # more than two days long; a window of two is cut into its two days
        step = timedelta(0) if middle > start and granularity == dates.DAY else unit
        bounds: list[tuple[datetime, datetime | None]] = [(start, middle), (middle + step, stop)]
        if not cursor.get("until"):
            bounds.append((stop + step, None))
        span = int((middle - start + unit).total_seconds())
        halves = []
        for low, high in bounds:
            window = self._window_cursor(dates.fmt(low, granularity), granularity,
                                         cursor.get("set"),
                                         dates.fmt(high, granularity) if high else None,
                                         cursor.get("end"), span, cursor.get("origin"))
            if cursor.get("open"):
                window["open"] = True
            if open_start and low == start:  # the first half stays open at its start
                window.update({"from": None, "start": None})
            halves.append(dict(window, split=True))
        return FanOut(tuple(halves))

    def _plan_span(self, earliest: str | None, end: str | None, granularity: str) -> int:
        start, stop = dates.parse(earliest), dates.parse(end)
        if start is None or stop is None or stop <= start or self.windows <= 1:
            return 0
        unit = int(dates.granule(granularity).total_seconds())
        span = -(-int((stop - start).total_seconds()) // self.windows)
        return max(unit, -(-span // unit) * unit)

    def listing_request(self, base_url: str, cursor: Cursor, page_size: int) -> ListingRequest:
        endpoint = self.endpoint if base_url.rstrip("/") == self.endpoint.rstrip("/") \
            else base_url
        again = bool(cursor.get("retries") or cursor.get("restarts"))
        if cursor.get("verb") == "Identify":  # asked again (cut off): not a duplicate
            return OaiListingRequest(oai_url(endpoint, {"verb": "Identify"}), dont_filter=again)
        if cursor.get("token"):
            params = {"verb": "ListRecords", "resumptionToken": cursor["token"]}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": self.metadata_prefix}
            if cursor.get("set"):
                params["set"] = cursor["set"]
            if cursor.get("from"):
                params["from"] = cursor["from"]
            if cursor.get("until"):
                params["until"] = cursor["until"]
        return OaiListingRequest(oai_url(endpoint, params), dont_filter=again)

    def parse_listing(self, body: bytes, url: str) -> OaiStep:
        try:
            response = read(body)
        except ValueError as exc:
            raise ExtractionError(f"not an OAI-PMH response ({exc})") from None
        query = parse_qs(urlsplit(url).query)
        verb = (query.get("verb") or [""])[0]
        stamp = (query.get("from") or query.get("until") or [""])[0]
        state = {"response_date": response.response_date,
                 "granularity": dates.granularity_of_stamp(stamp) if stamp else None}
        if response.truncated:
            return OaiStep("truncated", skip=True, state=None, cleaned=response.cleaned)
        if response.error_code == "noRecordsMatch":
            return OaiStep("no_records", skip=True, state=state)
        if response.error_code == "badResumptionToken":
            return OaiStep("bad_token", skip=True, state=None)
        if response.error_code == "badArgument" and verb == "ListRecords" \
                and stamp and "resumptionToken" not in query:
            # the window's from/until refused: seconds (a repository whose Identify claims a
            # granularity it lacks), or an `until` without `from` (django-oai-pmh 0.3.9)
            return OaiStep("bad_argument", skip=True, state=None)
        if response.error_code:
            raise ExtractionError(f"the repository answered {verb or 'the request'} with "
                                  f"OAI-PMH error {response.error_code}"
                                  + (f": {response.error_text}" if response.error_text else ""))
        if verb == "Identify":
            info = response.identify
            if not info:
                raise ExtractionError("the Identify response holds no Identify element")
            state = {"response_date": response.response_date,
                     "granularity": dates.granularity_of(info.get("granularity")),
                     "earliest": info.get("earliest"),
                     "deleted_record": info.get("deleted_record")}
            return OaiStep("identify", skip=True, state=state, identify=info)
        return self._list_step(response, state)

    def _list_step(self, response: OaiResponse, state: dict[str, Any]) -> OaiStep:
        step = OaiStep("list", state=state, token=response.token,
                       problems=list(response.problems), cleaned=response.cleaned,
                       complete=response.complete_size)
        stamps = []
        for raw in response.records:
            stamps.append(raw.datestamp)
            if raw.deleted:
                step.withdrawn.append(raw.identifier)
                continue
            try:
                fields = to_fields(raw, endpoint=self.endpoint, prefix=self.metadata_prefix,
                                   file_hosts=self.file_hosts)
            except Exception as exc:  # noqa: BLE001 - one unreadable record, not the page
                step.problems.append((raw.identifier, f"record not mapped: "
                                      f"{type(exc).__name__}: {exc}"[:500], raw.xml))
                continue
            fields["_raw"] = raw  # its XML written out only if the record is quarantined
            step.records.append(fields)
        step.count = len(response.records)
        parsed = [dates.parse(s) for s in stamps]
        if parsed:
            step.first_stamp, step.last_stamp = stamps[0], stamps[0]
            for text in stamps[1:]:
                step.last_stamp = _later(step.last_stamp, text)
            known = [p for p in parsed if p is not None]
            step.in_order = len(known) == len(parsed) and known == sorted(known)
            step.first_stamp = stamps[0]
        step.digest = _hash("\n".join(r.identifier for r in response.records))
        if not step.records and not step.withdrawn:  # nothing readable: on to the next page
            step.skip = True
        return step

    def next_cursor(self, cursor: Cursor, step: Any) -> Cursor | None:
        kind = getattr(step, "kind", "list")
        if kind == "identify":
            info = step.state or {}
            granularity = info.get("granularity") or dates.DAY
            end = info.get("response_date")
            if cursor.get("since"):
                since = dates.parse(cursor["since"])
                return self._first_window(self._since(since, granularity), granularity,
                                          self._first_set(), end, 0)
            earliest = dates.parse(info.get("earliest"))
            origin = dates.fmt(earliest, granularity) if earliest else None
            span = self._plan_span(origin, end, granularity)
            if cursor.get("split"):
                return self._planned_windows(origin, granularity, end, span)
            return self._first_window(origin, granularity, self._first_set(), end, span,
                                      open_start=True)
        if kind == "truncated":
            if cursor.get("retries", 0) >= self.max_retries:
                raise ExtractionError(f"the repository's response was cut off (or empty) "
                                      f"{cursor.get('retries', 0) + 1} times")
            return dict(cursor, retries=cursor.get("retries", 0) + 1)
        if kind == "bad_token":
            return self._restart(cursor)
        if kind == "bad_argument":
            if cursor.get("g") == dates.SECONDS:
                return self._to_days(cursor)
            return self._whole_set(cursor, "the repository refused the window's from/until "
                                   "(badArgument)")
        if kind == "no_records":
            return self._next_window(cursor)
        # a page of the list
        beyond = self._beyond_window(cursor, step)
        if beyond is not None:
            return self._whole_set(cursor, beyond)
        token = step.token
        if step.count and step.digest and step.digest == cursor.get("digest"):
            raise ExtractionError("the repository answered a resumption token with the same "
                                  "records as the page before it (a token loop)")
        if not token:
            return self._next_window(dict(cursor, records=cursor.get("records", 0) + step.count))
        crowded = self._halves(cursor, step)
        if crowded is not None:
            return crowded
        recent = list(cursor.get("recent") or [])
        if token == cursor.get("token") or _hash(token) in recent:
            raise ExtractionError(f"the repository repeated the resumption token {token!r} "
                                  "(a token loop)")
        if cursor.get("pages", 0) + 1 >= self.max_pages:
            raise ExtractionError(f"the list never ends: {self.max_pages} pages in one window")
        last = cursor.get("last")
        ordered = bool(cursor.get("ordered", True)) and step.in_order \
            and _not_before(step.first_stamp, last)
        return dict(cursor, token=token, last=_later(last, step.last_stamp), ordered=ordered,
                    pages=cursor.get("pages", 0) + 1,
                    records=cursor.get("records", 0) + step.count,
                    recent=[*recent, _hash(token)][-16:], digest=step.digest, retries=0,
                    complete=step.complete if step.complete is not None
                    else cursor.get("complete"))

    def select_records(self, cursor: Cursor, records: list[dict[str, Any]]
                       ) -> list[dict[str, Any]]:
        """The records of a page that belong to the walk: in a set's walk, those whose
        header names that set or one below it (`a` holds `a:b`). A page whose headers name
        no set at all (a repository that never lists setSpec) is kept whole: nothing to
        tell its records by. A repository whose token pages drop the set (django-oai-pmh
        0.3.9) lists the whole repository after the first page: the rest is not stored, so
        a harvest of one set holds that set only."""
        spec = cursor.get("set")
        if not spec or not records or not any(r.get("oai_sets") for r in records):
            return records
        below = spec + ":"
        return [r for r in records
                if any(s == spec or s.startswith(below) for s in r.get("oai_sets") or ())]

    def peek_next(self, cursor: Cursor, body: bytes) -> Cursor | None:
        """A guess at the step after a ListRecords page, from its raw bytes
        (harvester/lookahead.py): the token's page, or at the list's end (no token, an empty
        one, noRecordsMatch) the next window, as next_cursor makes it from a step of that
        shape. Only the request it names counts: next_cursor on the parsed page decides."""
        if cursor.get("verb") != "ListRecords":
            return None
        token = peek_token(body)
        if token is not None:
            step = OaiStep("list", token=token)  # its records count for nothing in the URL
        else:
            end = peek_list_end(body)
            if end is None:
                return None
            kind, count = end
            step = OaiStep(kind if kind == "no_records" else "list", count=count)
        try:
            following = self.next_cursor(cursor, step)
        except ExtractionError:
            return None
        return following if isinstance(following, dict) else None

    def _beyond_window(self, cursor: Cursor, step: Any) -> str | None:
        """Why the page shows that the repository does not keep to the window's bounds (a
        record datestamped after its `until`: token pages that drop the window, a server
        that ignores from/until), or None."""
        until = dates.parse(cursor.get("until"))
        last = dates.parse(getattr(step, "last_stamp", None))
        if until is None or last is None:
            return None
        if dates.floor(last, cursor.get("g") or dates.DAY) <= until:
            return None
        return (f"the repository listed a record datestamped {step.last_stamp} in the window "
                f"until {cursor.get('until')}")

    def _whole_set(self, cursor: Cursor, why: str) -> dict[str, Any]:
        """The repository's date windows cannot be relied on (`why`): the set asked for
        again as one list, without from/until, and every later set alike ("whole"), so no
        record a window's pages left out is lost (the records already stored come again
        and are found unchanged). A planned window of a shared backfill stops the walk
        instead: its branches would each list the whole set."""
        if cursor.get("split"):
            raise ExtractionError(f"{why}: a shared (--redis) backfill needs date windows the "
                                  "repository keeps; harvest it in one process")
        log.warning("%s: reading %s as one list, without date windows", why,
                    f"set {cursor['set']!r}" if cursor.get("set") else "the repository")
        return dict(cursor, **{"from": None}, until=None, start=None, span=0, token=None,
                    last=None, ordered=True, pages=0, records=0, recent=[], digest="",
                    restarts=0, retries=0, complete=None, whole=True)

    def _to_days(self, cursor: dict[str, Any]) -> dict[str, Any]:
        """The repository refused a `from`/`until` in seconds: the window again, and the
        walk on, at day granularity (its windows then cover whole days)."""
        if cursor.get("g") != dates.SECONDS:
            raise ExtractionError("the repository refused the window's from/until "
                                  "(badArgument)")
        day = {name: (cursor[name][:10] if isinstance(cursor.get(name), str) else cursor.get(name))
               for name in ("from", "until", "start", "origin", "last")}
        unit = int(dates.granule(dates.DAY).total_seconds())
        span = int(cursor.get("span") or 0)
        return dict(cursor, **day, g=dates.DAY, span=max(unit, -(-span // unit) * unit)
                    if span else 0, retries=cursor.get("retries", 0) + 1)

    def _restart(self, cursor: dict[str, Any]) -> dict[str, Any] | None:
        """The repository refused the window's token: the window again, from the last
        datestamp its records showed (they came in datestamp order), else from its start.
        A token refused after the window's pages brought exactly its completeListSize of
        records (a server that gives its last page a token it then refuses) ends the window
        instead: nothing of it is left to ask for (more than the count: the count is not
        to be trusted, and the window is asked again)."""
        if not cursor.get("token"):
            raise ExtractionError("the repository answered badResumptionToken to a request "
                                  "without a token")
        complete = cursor.get("complete")
        if complete and not cursor.get("restarts") and cursor.get("records", 0) == complete:
            return self._next_window(cursor)
        restarts = cursor.get("restarts", 0) + 1
        if restarts > self.max_retries:
            raise ExtractionError(f"the repository refused this window's resumption token "
                                  f"{restarts} times")
        granularity = cursor.get("g") or dates.DAY
        start = cursor.get("start")
        last = dates.parse(cursor.get("last"))
        if cursor.get("ordered") and last is not None:
            start = dates.fmt(dates.floor(last, granularity), granularity)
        return dict(cursor, token=None, **{"from": start}, pages=0, recent=[], digest="",
                    restarts=restarts, retries=0)

    def _next_window(self, cursor: dict[str, Any]) -> dict[str, Any] | None:
        if cursor.get("split"):  # a planned window of a shared backfill: its branch ends
            return None
        granularity = cursor.get("g") or dates.DAY
        until = dates.parse(cursor.get("until"))
        if until is None:  # the set's last window: on to the next set
            more, spec = self._next_set(cursor.get("set"))
            if not more:
                return None
            span = cursor.get("first_span", cursor.get("span", 0)) if cursor.get("end") else 0
            first = self._first_window(cursor.get("origin"), granularity, spec,
                                       cursor.get("end"), int(span or 0),
                                       open_start=bool(cursor.get("open")))
            if cursor.get("whole"):  # the repository's windows failed before: one list
                first.update({"from": None, "until": None, "start": None, "span": 0,
                              "whole": True})
            return first
        span = int(cursor.get("span") or 0)
        unit = int(dates.granule(granularity).total_seconds())
        records = int(cursor.get("records") or 0)
        if records * SPARSE_SHARE <= self.window_records:
            # empty, or sparse (a quarter of window_records or less): the next twice as
            # long, so a small repository is read in a few windows, not `windows` partial
            # last pages (and, at day granularity, as many boundary days listed twice)
            span *= 2
        elif records > self.window_records:
            span = max(unit, (span // 2) // unit * unit)
        start = _next_start(until, granularity, span)
        stop = dates.parse(cursor.get("end"))
        following = start + timedelta(seconds=span) - dates.granule(granularity)
        open_ended = stop is None or following >= stop
        nxt = self._window_cursor(dates.fmt(start, granularity), granularity, cursor.get("set"),
                                  None if open_ended else dates.fmt(following, granularity),
                                  cursor.get("end"), span, cursor.get("origin"))
        nxt["first_span"] = cursor.get("first_span", cursor.get("span"))
        if cursor.get("open"):
            nxt["open"] = True
        return nxt

    # --- reconciliation (records a complete backfill did not meet) ---------------------
    def withdraw_check_for(self, state: Mapping[str, Any] | None) -> bool:
        """Whether a complete backfill checks the stored records it did not meet."""
        if self.reconcile in ("always", "never"):
            return self.reconcile == "always"
        return (state or {}).get("deleted_record") in ("no", "transient")

    def check_url(self, record_id: str, url: str) -> str:
        """Where a record is checked: its GetRecord (idDoesNotExist or a deleted header is
        the repository's own word that the record is no longer offered: withdrawn at once,
        as a 410; any other failure decides nothing, a page that is not OAI-PMH is a 404)."""
        return get_record_url(self.endpoint, record_id, self.metadata_prefix)

    # --- single records -----------------------------------------------------------------
    def parse_document(self, body: bytes, url: str, **options: Any) -> dict[str, Any]:
        """A GetRecord response's record (a retried record, `harvester extract`)."""
        try:
            response = read(body)
        except ValueError as exc:
            raise NotADocument(f"not an OAI-PMH response ({exc})") from None
        if response.error_code == "idDoesNotExist":
            raise RecordGone(f"OAI-PMH error idDoesNotExist: {response.error_text}")
        if response.error_code:
            raise NotADocument(f"OAI-PMH error {response.error_code}: {response.error_text}")
        if response.problems:
            raise ExtractionError(response.problems[0][1])
        if not response.records:
            raise NotADocument("the response holds no record")
        raw = response.records[0]
        if raw.deleted:
            raise RecordGone(f"record {raw.identifier} is deleted")
        return to_fields(raw, endpoint=self.endpoint, prefix=self.metadata_prefix,
                         file_hosts=self.file_hosts)

    def is_challenge(self, body: bytes) -> bool:
        return False
