"""ArchiveSpider: the engine's spider. It walks a source's listing, fetches the documents
new to the store, and hands records to the pipelines.

It is glue between Scrapy and plain objects that know no Scrapy: the source (what to
request, how to read it: harvester/source.py), the run plan (mode, backfill campaign,
incremental walk: harvester/runplan.py), the listing walk (steps, cursor, count checks,
the walk's end: harvester/walk.py, each step by harvester/listingwalk.py) and the crawl
strategy (one process, or a crawl shared by --redis workers: harvester/spiders/strategy.py).
Documents that failed in earlier runs (state/<site>/failed/) are retried first in every
mode. See docs/architecture.md for the flow of one document from listing to store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from harvester import runplan
from harvester.config import setting, setting_bool, setting_float, setting_int
from harvester.context import RunContext, utc_now
from harvester.exceptions import (
    ChallengePage,
    ConfigError,
    ExtractionError,
    NotADocument,
    RecordGone,
    StoreError,
)
from harvester.exits import STORE_DOWN
from harvester.extractpool import ExtractPool
from harvester.items import DocumentItem, PageItem, documents_of
from harvester.keys import record_prefix
from harvester.listingwalk import describe, next_step
from harvester.lookahead import Lookahead
from harvester.outcomes import FAILED, QUARANTINED, THROUGH, Outcomes
from harvester.prefinal import ENCODED, prepare, raw_bytes, read_listing
from harvester.quarantine import quarantine
from harvester.registry import get_source
from harvester.source import (
    Source,
    WalkStart,
    step_next,
    step_problems,
    step_records,
    step_skips,
    step_state,
    step_withdrawn,
)
from harvester.spiders.strategy import LocalCrawl
from harvester.walk import SHORT, STOP, SWEEP, ListingWalk

logger = logging.getLogger(__name__)

MODES = runplan.MODES


class ArchiveSpider(scrapy.Spider):
    """The engine's spider; harvester.registry.spider_class makes one per source, under the
    source's name (listing requests, cursors, parsers and selectors are the source's)."""

    name = "archive"
    source: Source | None = None
    base_url: str
    allowed_domains: list[str]
    file_hosts: frozenset[str] = frozenset()
    limit: int
    html_maxsize: int
    listing_page_size: int
    ctx: RunContext
    extractor: ExtractPool
    strategy: LocalCrawl
    walker: ListingWalk

    def __init__(self, *args: Any, mode: str = "", base_url: str = "", limit: str | int = 0,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site: Source = type(self).source or get_source(self.name)
        self.mode_arg = mode
        self.base_url_arg = base_url
        self.limit_arg = int(limit or 0)
        self.mode = ""
        self.campaign: dict[str, Any] | None = None
        self.walk: dict[str, Any] | None = None  # the incremental walk (incremental mode)
        self._walk_saved = False  # the walk is recorded as running in the store
        self._walk_saving: asyncio.Future[Any] | None = None
        self._source_state: dict[str, Any] | None = None  # the walk's first ListingStep.state
        self._records_fresh: bool | None = None  # a backfill into a store with no record yet
        self.page_items = False  # whole records of a listing page as one PageItem (from_crawler)
        self.outcomes = Outcomes()  # what became of the documents scheduled
        self.lookahead: Lookahead | None = None  # chained listing pages asked one ahead
        self.stop_reason = ""  # why a part of the run closed it early (the report's reason)
        # where listing requests go once the listing moved for good (a 301/308 of a source
        # that follows its listing's redirects): "" while it is the base URL
        self.listing_base_url = ""
        self._campaign_saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="campaign")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.mode_arg = runplan.check_mode(spider.mode_arg or setting(settings, "HARVESTER_MODE"))
        base = spider.base_url_arg or setting(settings, "HARVESTER_BASE_URL") or spider.site.live_base_url
        spider.base_url = base.rstrip("/")
        host = urlsplit(spider.base_url).hostname
        if not host:
            raise ConfigError(f"bad base URL: {base!r}")
        spider.allowed_domains = [host]
        # hosts besides the crawl's where the source's file links may be fetched ("*": any)
        spider.file_hosts = frozenset(h.lower() for h in getattr(spider.site, "file_hosts", ()))
        spider.limit = spider.limit_arg or setting_int(settings, "HARVESTER_LIMIT")
        spider.outcomes.limit = spider.limit
        spider.html_maxsize = setting_int(settings, "HARVESTER_HTML_MAXSIZE")
        spider.listing_page_size = (setting_int(settings, "HARVESTER_LISTING_PAGE_SIZE")
                                    or spider.site.listing_page_size)
        spider.strategy = load_object(setting(settings, "HARVESTER_CRAWL_STRATEGY")).from_crawler(crawler)
        spider.walker = ListingWalk(max_sweeps=setting_int(settings, "HARVESTER_LISTING_SWEEPS"),
                                    count_checks=spider.strategy.count_checks,
                                    limited=bool(spider.limit))
        spider.ctx = RunContext.of(crawler)
        spider.page_items = spider.strategy.page_items and setting_bool(
            settings, "HARVESTER_PAGE_ITEMS")
        if spider.strategy.lookahead and setting_bool(settings, "HARVESTER_LISTING_LOOKAHEAD") \
                and callable(getattr(spider.site, "peek_next", None)):
            spider.lookahead = Lookahead()
        crawler.signals.connect(spider._item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_done, signal=signals.item_dropped)
        crawler.signals.connect(spider._item_failed, signal=signals.item_error)
        spider.extractor = spider.ctx.extract_pool(settings)
        spider._withdraw_setup(crawler)
        return spider

    # --- what the run report and the strategy read of the walk ------------------------
    @property
    def listing_total(self) -> int | None:
        return self.walker.listing_total

    @property
    def listing_exhausted(self) -> bool:
        return self.walker.exhausted

    @property
    def walk_ended(self) -> bool:
        return self.walker.ended

    @property
    def listing_error(self) -> str:
        return self.walker.error

    # --- URLs ---------------------------------------------------------------------------
    def crawl_url(self, url: str) -> str:
        """The same path on the crawl host (a mirror or the sample archive may serve the site)."""
        parts = urlsplit(url)
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    def file_url(self, url: str) -> str:
        """Where a file link is fetched: on a host of the source's `file_hosts` as it is,
        else the same path on the crawl host (crawl_url)."""
        if self.file_host_allowed(url):
            return url
        return self.crawl_url(url)

    def file_host_allowed(self, url: str) -> bool:
        """Whether `url` is on another host the source's files may be fetched from."""
        host = (urlsplit(url).hostname or "").lower()
        if host in {d.lower() for d in self.allowed_domains}:
            return False
        return "*" in self.file_hosts or host in self.file_hosts

    # --- start --------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        ctx = self.ctx
        self._warm_up()
        try:
            self.mode, self.campaign = await ctx.io(self._resolve_mode)
        except StoreError as exc:
            logger.error("the store %s cannot be read: %s", ctx.store_uri, exc)
            self.stop_reason = f"the store cannot be read: {exc}"
            asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=STORE_DOWN))
            return
        self.crawler.stats.set_value("extract/workers", self.extractor.size)
        if self.mode == "incremental":
            try:
                self.walk = await ctx.io(self._resolve_walk)
            except StoreError as exc:  # markers then carry no walk: the next walk is fresh
                logger.warning("could not read the incremental walk state: %s", exc)
        ctx.publish_plan(self.mode, self.campaign["id"] if self.campaign else None,
                         self.walk["id"] if self.walk else None)
        logger.info("harvest %s: mode %s, run %s, store %s", self.name, self.mode, ctx.run_id,
                    ctx.store_uri)
        try:
            failed = await ctx.io(lambda: list(ctx.state.iter_failed()))
        except StoreError as exc:
            logger.warning("could not read the failed list (retried next run): %s", exc)
            failed = []
        if failed:  # the retried documents are stored as part of the walk
            await self._open_walk()
        for entry in failed:
            if self.outcomes.full():
                break
            self.crawler.stats.inc_value("documents/retry_failed")
            yield self._document_request(self.crawl_url(entry["url"]), None, from_failed=True)
        previous = (self.walk or {}).get("previous") if self.mode == "incremental" else None
        walker, shared = self.walker, not self.strategy.keeps_cursor  # may split: FanOut
        walker.origin = self.site.start(WalkStart(self.mode, None, previous, shared))
        first = walker.origin
        resume = runplan.campaign_resume(self.campaign) if self.mode == "backfill" else None
        if resume is not None:
            first = self.site.start(WalkStart(self.mode, resume, previous, shared))
        walker.from_origin = first == walker.origin
        yield self._listing_request(first)

    def _warm_up(self) -> None:
        """The extraction worker imports the source's parser and makes its record schema
        while this process reads the store (its first page would otherwise wait for that)."""
        if not self.extractor.size:
            return

        def done(task: asyncio.Future[Any]) -> None:
            if not task.cancelled() and task.exception() is not None:  # the page's job retries
                logger.debug("extraction worker warm-up failed: %s", task.exception())

        asyncio.ensure_future(self.extractor.run(prepare, self.site)).add_done_callback(done)

    def _resolve_mode(self) -> tuple[str, dict[str, Any] | None]:
        """Blocking (on the store threads): the run's mode and backfill campaign, as the
        crawl strategy agrees them."""
        ctx = self.ctx
        return self.strategy.resolve_mode(
            lambda: runplan.resolve_mode(ctx.state, ctx.store, self.name, self.mode_arg,
                                         ctx.run_id, utc_now()),
            self.mode_arg, bool(self.limit), ctx.state.load_backfill)

    def _resolve_walk(self) -> dict[str, Any]:
        """Blocking: the incremental walk this run does, a new one or an open one resumed."""
        state = self.ctx.state
        plan = self.strategy.resolve_walk(
            lambda: runplan.resolve_walk(state, self.ctx.run_id, utc_now()),
            state.save_incremental, state.load_incremental)
        if plan.resumed:
            self.crawler.stats.set_value("listing/walk_resumed", 1)
        self._walk_saved = plan.saved  # a new walk: saved by _open_walk, once a document of
        return plan.walk               # it may be stored

    async def _open_walk(self) -> None:
        """Record the walk as running before any record of it can be stored (a run that
        stores nothing new writes no state). Every caller waits for the one write."""
        if self.walk is None or self._walk_saved:
            return
        if self._walk_saving is None:
            self._walk_saving = asyncio.ensure_future(
                self.ctx.io(self.ctx.state.save_incremental, self.walk))
        await asyncio.shield(self._walk_saving)
        self._walk_saved = True

    # --- requests -----------------------------------------------------------------------
    def _listing_request(self, cursor: Any, prior: dict[str, Any] | None = None,
                         sweep: int = 0, index: int = 0) -> scrapy.Request:
        """The listing step at `cursor` (the source's). `prior`: what the step before it
        told of the walk (listingwalk.Step.carry); `sweep`: the pass over the listing after
        the first (its pages are fetched again); `index`: the step's place in the walk."""
        spec = self.site.listing_request(self.listing_base_url or self.base_url, cursor,
                                         self.listing_page_size)
        meta = {"page": index, "cursor": cursor, "kind": "listing", "walk_prior": prior or {},
                "sweep": sweep, "download_maxsize": self.html_maxsize}
        statuses = getattr(spec, "read_statuses", ())
        if statuses:
            meta["handle_httpstatus_list"] = list(statuses)
        return scrapy.Request(
            spec.url, method=spec.method, body=spec.body or None,
            headers=dict(spec.headers) or None, callback=self.parse_listing,
            errback=self.listing_failed, priority=-index,
            dont_filter=sweep > 0 or bool(getattr(spec, "dont_filter", False)),
            meta=meta,
        )

    def _note_moved_listing(self, response: Response) -> None:
        """A listing page read after a permanent redirect (301, 308) of a source that follows
        its listing's redirects (an OAI-PMH endpoint that moved): the listing's next
        requests go to where it moved, one request a page instead of two. Only when the
        redirect kept the query as it was (the same request at a new address) and came
        from the address the listing is asked at now; temporary redirects change nothing."""
        if not getattr(self.site, "follow_listing_redirects", False):
            return
        reasons = response.meta.get("redirect_reasons") or ()
        urls = response.meta.get("redirect_urls") or ()
        if not urls or not reasons or any(r not in (301, 308) for r in reasons):
            return
        asked, landed = urlsplit(urls[0]), urlsplit(response.url)
        if asked.query != landed.query:
            return
        current = (self.listing_base_url or self.base_url).rstrip("/")
        moved = urlunsplit((landed.scheme, landed.netloc, landed.path, "", ""))
        if urlunsplit((asked.scheme, asked.netloc, asked.path, "", "")).rstrip("/") != current \
                or moved.rstrip("/") == current:
            return
        self.listing_base_url = moved
        self.crawler.stats.inc_value("scope/listing_moved")
        logger.warning("the listing at %s moved for good (HTTP %s): its next requests go to %s",
                       current, reasons[-1], moved)

    # --- lookahead (harvester/lookahead.py) ---------------------------------------------
    def _guess_next(self, response: Response) -> scrapy.Request | None:
        """The next step of a chained listing, asked for before this one is parsed, when
        the source can tell it from the raw bytes (None: no guess)."""
        lookahead = self.lookahead
        if lookahead is None or not lookahead.enabled or self.outcomes.limit \
                or self.walker.error:
            return None
        meta = response.meta
        guess = self.site.peek_next(_cursor_of(meta), response.body)  # type: ignore[attr-defined]
        if guess is None:
            return None
        request = self._listing_request(guess, None, int(meta.get("sweep") or 0),
                                        int(meta.get("page") or 0) + 1)
        request.errback = self.lookahead_failed
        request.meta["lookahead"] = meta["lookahead_made"] = lookahead.guess(request)
        self.crawler.stats.inc_value("listing/lookahead_made")
        return request

    def _following_requests(self, meta: dict[str, Any], step: Any, sweep: int
                            ) -> list[scrapy.Request]:
        """The requests of the steps after this one (one, or a split walk's branches), but
        the one its guess asked for already."""
        index = int(meta.get("page") or 0) + 1
        requests = [self._listing_request(following, carry, sweep, index)
                    for following, carry in step.following()]
        if self.lookahead is None:
            return requests
        return self.lookahead.settle(meta.get("lookahead_made"), requests)

    async def _lookahead_stands(self, meta: dict[str, Any]) -> bool:
        """A guess's response or failure: once its step is read, True with the meta of the
        request it stands in for; False when it was wasted."""
        assert self.lookahead is not None
        real = await self.lookahead.wait(meta.pop("lookahead"))
        if real is None:
            self.crawler.stats.inc_value("listing/lookahead_wasted")
            return False
        meta.update(real)
        self.crawler.stats.inc_value("listing/lookahead_used")
        return True

    async def lookahead_failed(self, failure: Failure) -> AsyncIterator[scrapy.Request]:
        """A guess that could not be fetched: as its step's request failing, once it is
        known to be that request."""
        request = failure.request  # type: ignore[attr-defined]
        if await self._lookahead_stands(request.meta):
            for following in self.listing_failed(failure):
                yield following

    def _document_request(self, url: str, page: int | None, *, from_failed: bool = False,
                          unseen: bool = False) -> scrapy.Request:
        """A document page request; `unseen`: the URL has no seen marker (DedupPipeline then
        takes the record for new without reading the store, and the create-only write
        decides)."""
        self._scheduled(page)
        return scrapy.Request(
            url, callback=self.parse_document, errback=self.document_failed, priority=100,
            meta={"page": page, "kind": "document", "listing_url": url, "from_failed": from_failed,
                  "unseen": unseen, "download_maxsize": self.html_maxsize},
        )

    def _scheduled(self, page: int | None) -> None:
        """One more document of the listing step `page` (None: not of this walk's first pass)."""
        self.outcomes.schedule()
        self.walker.doc_scheduled(page)

    def _listed_item(self, response: Response, fields: dict[str, Any], page: int | None
                     ) -> DocumentItem:
        """A record that came whole with a listing step: it goes to the pipelines as a
        fetched document's record does (no request of its own)."""
        self._scheduled(page)
        url = str(fields.get("url") or response.url)
        raw = fields.pop("_raw", b"")
        item = DocumentItem(url=url, listing_url=url, record=fields, page=page,
                            body=raw_bytes(raw), unseen=bool(self._records_fresh))
        item.encoded = fields.pop(ENCODED, None)  # finalized by the worker that parsed it
        return item

    async def _store_had_no_records(self) -> bool:
        """Whether a backfill started on a store holding no record of this source (one
        listing request, at its first step that brings records whole): then every such
        record is new to the store but for one this run stored already, which the
        create-only write finds (DedupPipeline skips its store read: `unseen`)."""
        if self.mode != "backfill":
            return False
        prefix = record_prefix(self.name)
        try:
            return bool(await self.ctx.io(
                lambda: next(iter(self.ctx.store.list(prefix)), None) is None))
        except StoreError:
            return False

    def _keep_source_state(self, state: dict[str, Any]) -> None:
        """The first state the walk's listing gave (an OAI-PMH responseDate): kept with the
        campaign or walk, for the next walk's WalkStart.previous once this one completes."""
        self._source_state = state
        if self.mode == "backfill" and self.campaign is not None:
            self.campaign.setdefault("source_state", state)
        elif self.walk is not None:
            self.walk.setdefault("source_state", state)

    async def _withdraw_listed(self, record_ids: list[str]) -> None:
        """The listing says these records are no longer offered (OAI-PMH deleted records):
        their stored records become withdrawn records, each with its feed line."""
        from harvester.withdrawals import record_withdrawn, withdraw

        ctx = self.ctx
        for rid in record_ids:
            self.crawler.stats.inc_value("withdraw/listed")
            try:
                line = await ctx.io(withdraw, ctx.store, ctx.state, self.name, rid, ctx.run_id,
                                    utc_now())
            except StoreError as exc:
                logger.warning("could not withdraw record %s (retried next run): %s", rid, exc)
                continue
            if line is not None:
                logger.info("withdrawn: record %s (the listing says it is deleted)", rid)
                self.crawler.stats.inc_value("withdraw/withdrawn")
                self.crawler.signals.send_catch_log(record_withdrawn, line=line)

    async def _quarantine_part(self, response: Response, identifier: str, reason: str,
                               raw: bytes) -> None:
        """One record of a listing step could not be read: kept with the reason, the rest
        of the step is used."""
        ctx = self.ctx
        ctx.count_quarantined(self.crawler.stats, identifier)
        self.crawler.stats.inc_value("quarantine/listing_record")
        logger.warning("quarantined %s in %s: %s", identifier, response.url, reason)
        await ctx.io(quarantine, ctx.store, self.name, identifier, reason, "UnreadableRecord",
                     raw, ctx.run_id, utc_now())

    # --- listing ------------------------------------------------------------------------
    async def parse_listing(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        if meta.get("lookahead") is not None and not await self._lookahead_stands(meta):
            return  # a guess its step did not ask for: dropped unread
        ahead = self._guess_next(response)
        if ahead is not None:
            yield ahead
        try:
            async for output in self.strategy.listing_outputs(response,
                                                              self._read_listing(response)):
                yield output
        finally:
            if self.lookahead is not None:  # a step that asked for nothing more
                self.lookahead.abandon(meta.get("lookahead_made"))
        if self.walker.exhausted:  # before this worker can go idle: before the crawl is done
            self.strategy.agree(listing_exhausted="1")
        if self.walker.ended:
            self.strategy.agree(walk_ended="1")

    async def _read_listing(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        cursor = _cursor_of(meta)
        label = describe(cursor)
        sweep = int(meta.get("sweep") or 0)
        stats = self.crawler.stats
        walker = self.walker
        if not 200 <= response.status < 300 and not response.body.strip():
            # a status the source reads (read_statuses) that came without a body to read
            self._status_unread(label, response, ", empty body")
            return
        try:
            listing = await self.extractor.run(read_listing, self.site, response.body,
                                               response.url, self.ctx.site)
        except ExtractionError as exc:
            if not 200 <= response.status < 300:  # a status the source reads (read_statuses)
                # whose body it could not read: a failed fetch, said as one
                self._status_unread(label, response, f"; {exc}")
                return
            stats.inc_value("listing/invalid")
            self.listing_unreadable(f"listing page {label} is not a listing ({exc})",
                                    response.url)
            return
        except Exception as exc:  # a bug of the extractor on this page: the walk stops here,
            # and the campaign stays open, so the next run walks on (nothing taken for done)
            stats.inc_value("listing/extractor_errors")
            logger.exception("the listing page %s broke the extractor", response.url)
            self.listing_unreadable(f"listing page {label} broke the extractor "
                                    f"({type(exc).__name__}: {exc})", response.url)
            return
        if "redirect_urls" in meta:
            self._note_moved_listing(response)
        following = step_next(listing)
        if following is None:
            try:
                following = self.site.next_cursor(cursor, listing)
            except ExtractionError as exc:  # the source says its walk cannot go on (a loop)
                stats.inc_value("listing/invalid")
                self.listing_unreadable(f"listing step {label}: {exc}", response.url)
                return
        step = next_step(cursor, listing, self.listing_page_size, meta.get("walk_prior"),
                         first=cursor == walker.origin, following=following)
        state = step.carry.get("state") or step_state(listing)  # the walk's first state
        if state is not None and self._source_state is None:
            self._keep_source_state(dict(state))
        for problem in step_problems(listing):
            await self._quarantine_part(response, *problem)
        await self._withdraw_listed(step_withdrawn(listing))
        if step_skips(listing):
            if step.next_page is not None:  # the next step, or the branches of a split walk
                for request in self._following_requests(meta, step, sweep):
                    yield request
            else:
                ended = self._listing_ended(response.url, sweep)
                if ended is not None:
                    yield ended
            return
        if step.problem:
            self.listing_unreadable(step.problem, response.url)
            return
        if step.repeated:  # the page before it again (a pager clamped to its last page)
            stats.inc_value("listing/repeated_pages")
            ended = self._listing_ended(response.url, sweep)
            if ended is not None:
                yield ended
            return
        stats.inc_value("listing/pages")
        urls = [self.crawl_url(u) for u in listing.document_urls]
        fresh = walker.page_read(label, urls, listing.total, step.carry.get("digest", ""),
                                 sweep)
        markers = await self.ctx.io(lambda: [self.ctx.state.get_seen(u) for u in urls])
        page = walker.step_listed(cursor, step.next_page, sweep)
        reached_known = False
        limit_hit = False
        records = step_records(listing)
        select = getattr(self.site, "select_records", None)
        if records and select is not None:  # the source's word on what belongs to the walk
            kept = select(cursor, records)
            if len(kept) < len(records):
                if not stats.get_value("listing/records_outside"):
                    logger.warning("listing page %s holds %d records outside the walk "
                                   "(another set's): not stored", label,
                                   len(records) - len(kept))
                stats.inc_value("listing/records_outside", len(records) - len(kept))
            records = kept
        if records and self._records_fresh is None:
            self._records_fresh = await self._store_had_no_records()
        ahead = False
        if records and not urls and not self.outcomes.limit and step.next_page is not None:
            # records that came whole, nothing to fetch: the next step is asked for now, so
            # the repository answers it (and the extraction worker reads it) while this
            # step's records are stored, as a chain of pages would not otherwise overlap
            await self._open_walk()
            ahead = True
            for request in self._following_requests(meta, step, sweep):  # or the branches
                yield request
        whole: list[DocumentItem] = []  # with page_items: the page's, as one item
        for fields in records:  # records that came whole with the listing
            if self.outcomes.full():
                limit_hit = True
                break
            await self._open_walk()
            item = self._listed_item(response, fields, page)
            if self.page_items:
                whole.append(item)
            else:
                yield item
        if whole:
            stats.inc_value("listing/page_items")
            yield PageItem(whole, response)
        new_here = set(fresh)
        for url, marker in zip(urls, markers, strict=True):
            if self.mode == "incremental" and not (marker and self._ends_walk(marker)):
                walker.walk_found.add(url)  # a new upload (or one this walk stored before)
            if marker is not None and self._is_done(marker):
                reached_known = reached_known or self._ends_walk(marker)
                stats.inc_value("listing/known")
                continue
            if url not in new_here:  # an earlier page of this run showed it: queued there
                continue
            if self.outcomes.full():
                limit_hit = True
                break
            await self._open_walk()
            yield self._document_request(url, page, unseen=marker is None)
        self._maybe_advance_cursor()
        if limit_hit:
            return
        if self.mode == "incremental" and reached_known and self.site.newest_first:
            again = self._incremental_ended(response.url, sweep)
            if again is not None:
                yield again
            return
        if ahead:
            return
        if step.next_page is not None:
            for request in self._following_requests(meta, step, sweep):
                yield request
        else:
            ended = self._listing_ended(response.url, sweep)
            if ended is not None:
                yield ended

    def _listing_ended(self, url: str, sweep: int) -> scrapy.Request | None:
        """The walk reached the listing's end: done, another pass, or a stop (ListingWalk
        decides, see harvester/walk.py)."""
        end = self.walker.backfill_end(sweep, self.mode == "backfill")
        if end.what == SWEEP:
            return self._sweep(end.reason)
        if end.what == STOP:
            if self.campaign:
                self.campaign["resume"] = None
                self.campaign.pop("cursor", None)
                self._campaign_saver.submit(self.ctx.state.save_backfill, dict(self.campaign))
            self.listing_unreadable(end.reason, url)
        elif end.what == SHORT:
            self.crawler.stats.set_value("listing/short_of_count", end.missing)
            logger.warning("the listing counts %d documents, its pages show %d: the count "
                           "includes entries the listing does not show",
                           self.walker.most_listed, len(self.walker.listed))
        return None

    def _sweep(self, why: str) -> scrapy.Request:
        """The listing's first page again, for another pass over it."""
        sweeps = self.walker.begin_sweep()
        self.crawler.stats.inc_value("listing/sweeps")
        logger.warning("%s: reading the listing again (pass %d)", why, sweeps + 1)
        return self._listing_request(self.walker.origin, sweep=sweeps)

    def _incremental_ended(self, url: str, sweep: int) -> scrapy.Request | None:
        """The incremental walk reached documents harvested before it: done, the walked
        pages read again, or a stop with the walk left open (harvester/walk.py)."""
        end = self.walker.incremental_end(sweep, (self.walk or {}).get("baseline_total"))
        if end.what == SWEEP:
            return self._sweep(end.reason)
        if end.what == STOP:
            self.listing_unreadable(end.reason, url)
        return None

    def _is_done(self, marker: dict[str, Any]) -> bool:
        if self.mode == "incremental":
            return True
        return bool(self.campaign) and marker.get("campaign") == self.campaign["id"]  # type: ignore[index]

    def _ends_walk(self, marker: dict[str, Any]) -> bool:
        """Incremental: a document harvested before this walk (not by a run of this walk
        that stopped early) marks where the new uploads end."""
        return self.mode == "incremental" and (
            self.walk is None or marker.get("walk") != self.walk["id"])

    def listing_failed(self, failure: Failure) -> list[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        cursor = _cursor_of(meta)
        out: list[scrapy.Request] = []
        response = getattr(failure.value, "response", None)
        if response is not None and response.status in (404, 410) \
                and cursor != self.walker.origin \
                and not _more_promised(request.meta.get("walk_prior") or {}):
            # past the end: the site answers page numbers past its last with 404
            self.crawler.stats.inc_value("listing/past_end_404")
            ended = self._listing_ended(request.url, int(request.meta.get("sweep") or 0))
            out = [ended] if ended is not None else []
        else:
            self.crawler.stats.inc_value("listing/failed")
            self.listing_unreadable(f"listing page {describe(cursor)} could not be fetched "
                                    f"({_failure_reason(failure)})", request.url)
        if self.walker.exhausted:  # a 404 past the end; before the crawl can be found done
            self.strategy.agree(listing_exhausted="1")
        self.strategy.released(meta)
        return out

    def _status_unread(self, label: str, response: Response, why: str) -> None:
        self.crawler.stats.inc_value("listing/failed")
        self.listing_unreadable(f"listing page {label} could not be fetched "
                                f"(HTTP {response.status}{why})", response.url)

    def listing_unreadable(self, reason: str, url: str) -> None:
        """The walk stops here: the documents already queued are still fetched and stored,
        the campaign or walk stays open, and the run ends with exit status 6 and `reason`
        (never "finished" as if the archive were empty). A shared crawl's workers all stop."""
        self.crawler.stats.inc_value("listing/unreadable")
        logger.error("%s: %s; the walk stops here", reason, url)
        self.walker.unreadable(reason, url)
        self.strategy.agree(listing_error=self.walker.error)

    def listing_problem(self) -> str:
        """Why the run's listing walk stopped before its end ('' when it did not). A walk of
        this process that neither reached its end nor stopped for a reason, in a run that
        ran out of requests, lost a step on the way (its request dropped by the dupefilter,
        as one fetched before: a list whose tokens come round again past the source's
        own loop check): that is a stop too, never a finished walk."""
        problem = self.strategy.listing_problem(self.walker.error)
        walker = self.walker
        started = walker.origin is not None  # the first listing request was made
        if problem or not started or self.limit or not self.strategy.count_checks \
                or walker.exhausted or walker.ended:
            return problem
        self.crawler.stats.inc_value("listing/stalled")
        return ("the listing walk stopped before its end: no step was left to fetch (a step's "
                "request was dropped as a repeat of one fetched before); the campaign or walk "
                "stays open")

    # --- documents ----------------------------------------------------------------------
    async def parse_document(self, response: Response) -> AsyncIterator[Any]:
        fields = await self._extract_document(response)
        if fields is not None:
            yield self._document_item(response, fields)

    async def _extract_document(self, response: Response, *,
                                raise_not_a_document: bool = False) -> dict[str, Any] | None:
        """The page's record fields; None when the page failed (a challenge: retried next
        run) or was quarantined. `raise_not_a_document`: a page that is not a document
        (an error page, a listing) raises NotADocument instead of being quarantined."""
        meta = response.meta
        try:
            fields: dict[str, Any] = await self.extractor.run(
                self.site.parse_document, response.body, response.url,
                encoding=_declared_encoding(response))
        except ChallengePage as exc:
            await self._fail(response.url, f"challenge page: {exc}", meta)
            return None
        except ExtractionError as exc:
            if raise_not_a_document and isinstance(exc, NotADocument):
                raise
            await self._quarantine(response, str(exc), type(exc).__name__)
            return None
        except Exception as exc:  # a bug of the extractor on this page: kept with the reason
            logger.exception("the document page %s broke the extractor", response.url)
            self.crawler.stats.inc_value("documents/extractor_errors")
            await self._quarantine(response, f"extractor error: {type(exc).__name__}: {exc}",
                                   type(exc).__name__)
            return None
        return fields

    def _document_item(self, response: Response, fields: dict[str, Any]) -> DocumentItem:
        meta = response.meta
        return DocumentItem(url=response.url, listing_url=meta.get("listing_url", response.url),
                            record=fields, page=meta.get("page"),
                            from_failed=bool(meta.get("from_failed")), body=response.body,
                            unseen=bool(meta.get("unseen")) and not meta.get("from_failed"))

    # --- outcomes: stored (the pipelines), quarantined, failed --------------------------
    async def _quarantine(self, response: Response, reason: str, error: str) -> None:
        ctx = self.ctx
        ctx.count_quarantined(self.crawler.stats, response.url)
        self.crawler.stats.inc_value(f"quarantine/{error}")
        logger.warning("quarantined %s: %s", response.url, reason)
        await ctx.io(quarantine, ctx.store, self.name, response.url, reason, error, response.body,
                     ctx.run_id, utc_now())
        self._doc_finished(response.meta.get("page"), QUARANTINED)
        self.strategy.released(response.meta)

    async def document_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        await self._fail(request.url, _failure_reason(failure), request.meta)

    async def _fail(self, url: str, reason: str, meta: dict[str, Any]) -> None:
        self.crawler.stats.inc_value("documents/failed")
        logger.warning("document failed, retried next run: %s (%s)", url, reason)
        await self.ctx.io(self.ctx.state.mark_failed, meta.get("listing_url", url), reason,
                          self.ctx.run_id)
        self._doc_finished(meta.get("page"), FAILED)
        self.strategy.released(meta)

    def _item_scraped(self, item: Any, **kwargs: Any) -> None:
        if isinstance(item, PageItem):  # Scrapy counted the page: item_scraped_count counts
            self.crawler.stats.inc_value("item_scraped_count", len(item.documents) - 1)
        for doc in documents_of(item):
            self._doc_finished(doc.page, THROUGH)

    def _item_done(self, item: Any, **kwargs: Any) -> None:
        for doc in documents_of(item):
            self._doc_finished(doc.page, THROUGH)

    async def _item_failed(self, item: Any, response: Any = None, failure: Any = None,
                           **kwargs: Any) -> None:
        """A pipeline raised on the record (not a DropItem): it was not stored. Recorded as
        failed, so the next run fetches it again and the run report counts it. A record
        that came whole with a listing page is done for its own listing step."""
        reason = failure.getErrorMessage() if failure is not None else "unknown"
        for doc in documents_of(item):
            meta = getattr(response, "meta", None) or {}
            if not meta or meta.get("kind") == "listing":
                meta = {**meta, "listing_url": doc.listing_url, "page": doc.page}
            self.crawler.stats.inc_value("documents/pipeline_errors")
            await self._fail(doc.url, f"pipeline error: {reason}", meta)

    def _doc_finished(self, page: int | None, outcome: str) -> None:
        self.outcomes.ended(outcome)
        self.walker.doc_finished(page)
        self._maybe_advance_cursor()

    def _maybe_advance_cursor(self) -> None:
        """Move the campaign's resume cursor past listing steps whose documents are all
        done (harvester/walk.py): an interrupted backfill restarts at the last such step,
        whatever the shape of the source's cursor."""
        if self.mode != "backfill" or not self.campaign or not self.strategy.keeps_cursor:
            return
        moved, cursor = self.walker.advance()
        if not moved:
            return
        self.campaign["resume"] = cursor
        self.campaign.pop("cursor", None)
        self._campaign_saver.submit(self.ctx.state.save_backfill, dict(self.campaign))

    # --- the end of the run -----------------------------------------------------------
    def closed(self, reason: str) -> None:
        walker = self.walker
        walker.exhausted, walker.ended = self.strategy.at_close(walker.exhausted, walker.ended)
        total = walker.most_listed if self.strategy.count_checks else None
        finished = reason == "finished" and not self.limit
        if self.mode == "backfill" and self.campaign and finished and walker.exhausted \
                and self._withdraw_passed():
            self.campaign = runplan.completed(self.campaign, utc_now(), total)
            self._campaign_saver.submit(self.ctx.state.save_backfill, dict(self.campaign))
        if self.mode == "incremental" and self.walk and self._walk_saved and finished \
                and (walker.ended or walker.exhausted):
            walk = runplan.completed(self.walk, utc_now(), total)
            self._campaign_saver.submit(self.ctx.state.save_incremental, walk)
        self._campaign_saver.shutdown(wait=True)
        extractor = getattr(self, "extractor", None)
        if extractor is not None:  # the run's context stops its workers (RunContext.close)
            stats = self.crawler.stats
            stats.set_value("extract/worker_restarts", extractor.stats.restarts)
            stats.set_value("extract/crashed", extractor.stats.crashed)
            stats.set_value("extract/timeouts", extractor.stats.timeouts)

    # --- withdrawn documents (harvester/withdrawals.py) -----------------------------------
    # At the end of a complete backfill (listing walked to its end, no --limit) the stored
    # records the walk did not meet are checked at their own URL; the campaign completes
    # only when that check passed the safety valve.
    withdraw_checks = True  # the crawl strategy's and the source's say, and the setting

    def _withdraw_setup(self, crawler: Any) -> None:
        settings = crawler.settings
        # a source whose listing reports deletions itself (OAI-PMH) says withdraw_check=False
        self.withdraw_checks = (self.strategy.withdraw_checks
                                and getattr(self.site, "withdraw_check", True)
                                and setting_bool(settings, "HARVESTER_WITHDRAW_CHECK"))
        self.withdraw_max_share = setting_float(settings, "HARVESTER_WITHDRAW_MAX_SHARE")
        self.withdraw_threads = setting_int(settings, "HARVESTER_STORE_THREADS")
        self._withdraw_check: Any = None  # the WithdrawalCheck, once the checks are planned
        self._withdraw_pending = 0
        self._withdraw_phase = ""  # "" | checking | passed | tripped | failed
        self._withdraw_task: asyncio.Future[None] | None = None  # planning or deciding
        crawler.signals.connect(self._withdraw_idle, signal=signals.spider_idle)

    def _withdraw_wanted(self) -> bool:
        return (self.withdraw_checks and self.mode == "backfill" and bool(self.campaign)
                and self.listing_exhausted and not self.limit and self._source_wants_check())

    def _source_wants_check(self) -> bool:
        """A source may decide from what its walk learnt (the campaign's source state, e.g.
        an OAI-PMH repository that does not report deletions) with withdraw_check_for."""
        decide = getattr(self.site, "withdraw_check_for", None)
        if decide is None:
            return True
        return bool(decide((self.campaign or {}).get("source_state")))

    def _withdraw_passed(self) -> bool:
        """The campaign may be completed: no check is wanted, or it passed."""
        return not self._withdraw_wanted() or self._withdraw_phase == "passed"

    def _withdraw_idle(self, spider: Any = None) -> None:
        """spider_idle: plan the checks, and at the next idle after them (every check done:
        nothing in flight or scheduled) decide. Planning (every stored record and its seen
        marker read) and deciding (the withdrawals written) are store I/O: they run through
        the run's store threads (`ctx.io`) while the spider is kept open."""
        from scrapy.exceptions import DontCloseSpider

        if not self._withdraw_wanted() or self._withdraw_phase in ("passed", "tripped",
                                                                    "failed"):
            return
        if self._withdraw_task is not None and not self._withdraw_task.done():
            raise DontCloseSpider  # planning or deciding
        if not self._withdraw_phase:
            self._withdraw_task = asyncio.ensure_future(self._withdraw_plan())
            raise DontCloseSpider
        if self._withdraw_pending > 0:  # a check whose answer never came decides nothing
            logger.warning("%d withdrawal checks got no answer", self._withdraw_pending)
            self.crawler.stats.inc_value("withdraw/undecided", self._withdraw_pending)
            self._withdraw_pending = 0
        self._withdraw_task = asyncio.ensure_future(self._withdraw_decide())
        raise DontCloseSpider

    def _wake_engine(self) -> None:
        """Have the engine look at its idle state now rather than at its next 5 s heartbeat
        (as harvester.distributed.idle does; Scrapy has no public call for it)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    async def _withdraw_plan(self) -> None:
        """Schedule the check requests of the stored records the walk did not meet."""
        from harvester.withdrawals import WithdrawalCheck, clear_missing, plan_checks

        ctx, stats = self.ctx, self.crawler.stats
        assert self.campaign is not None
        campaign = self.campaign["id"]

        def plan_blocking() -> Any:
            plan = plan_checks(ctx.store, ctx.state, self.name, campaign, self.withdraw_threads)
            for rid in plan.stale_missing:
                clear_missing(ctx.store, self.name, rid)
            return plan

        try:
            plan = await ctx.io(plan_blocking)
        except StoreError as exc:
            logger.warning("could not list the stored records to check for withdrawn "
                           "documents (the campaign stays open): %s", exc)
            self._withdraw_phase = "failed"
            self._wake_engine()
            return
        self._withdraw_check = WithdrawalCheck(campaign, plan.active, self.withdraw_max_share)
        self._withdraw_phase = "checking"
        logger.info("backfill walked to its end: checking %d stored records it did not meet "
                    "(%d active, %d withdrawn)", len(plan.candidates), plan.active,
                    plan.withdrawn)
        for candidate in plan.candidates:
            self._withdraw_pending += 1
            stats.inc_value("withdraw/checked")
            # a source may check a record elsewhere than at its page (OAI-PMH: GetRecord)
            check_url = getattr(self.site, "check_url", None)
            url = self.crawl_url(check_url(candidate.record_id, candidate.url) if check_url
                                 else candidate.url)
            self.crawler.engine.crawl(scrapy.Request(
                url, callback=self.parse_withdraw_check, errback=self.withdraw_check_failed,
                priority=100, dont_filter=True,
                meta={"kind": "withdraw_check", "candidate": candidate, "page": None,
                      "listing_url": url, "handle_httpstatus_list": [404, 410],
                      "download_maxsize": self.html_maxsize}))
        self._wake_engine()

    async def parse_withdraw_check(self, response: Response) -> AsyncIterator[Any]:
        """404/410 are answers of the check; so is a page that is not a document (a "Page
        not found" page served with 200, a redirect to the search or home page), taken as a
        404 (a later campaign confirms it before the record is withdrawn). A document page
        is processed as any document page. A source whose protocol answers with a 404 or 410
        of its own (`check_read_statuses`: OAI-PMH's idDoesNotExist sent as a 404) has the
        body read first: its word decides, and a body it cannot read is the 404 it was."""
        from harvester.withdrawals import clear_missing

        candidate = response.meta["candidate"]
        stats = self.crawler.stats
        try:
            if response.status in (404, 410) \
                    and response.status not in getattr(self.site, "check_read_statuses", ()):
                self._withdraw_answered(candidate, response.status)
                return
            try:
                fields = await self._extract_document(response, raise_not_a_document=True)
            except RecordGone as exc:  # the source's own word (OAI-PMH idDoesNotExist)
                logger.info("withdrawal check of %s: %s: taken as gone", response.url, exc)
                stats.inc_value("withdraw/source_says_gone")
                self._withdraw_answered(candidate, 410)
                return
            except NotADocument as exc:
                logger.info("withdrawal check of %s: the page is not a document (%s): taken "
                            "as not found", response.url, exc)
                stats.inc_value("withdraw/not_a_document")
                # a 410 the source's body did not explain is still the server's "gone"
                self._withdraw_answered(candidate, 410 if response.status == 410 else 404)
                return
            stats.inc_value("withdraw/answered")
            if fields is not None:
                if candidate.missing is not None:
                    await self.ctx.io(clear_missing, self.ctx.store, self.name,
                                      candidate.record_id)
                yield self._document_item(response, fields)
        finally:
            self._withdraw_pending -= 1

    def _withdraw_answered(self, candidate: Any, status: int) -> None:
        from harvester.withdrawals import GONE, MISSING

        result = self._withdraw_check.answered(candidate, status)
        self.crawler.stats.inc_value(f"withdraw/{'gone' if result == GONE else 'missing'}")
        if result not in (GONE, MISSING):
            self.crawler.stats.inc_value("withdraw/confirmed_404")

    async def withdraw_check_failed(self, failure: Failure) -> None:
        """A check that failed otherwise (timeout, 5xx after retries) decides nothing."""
        self._withdraw_pending -= 1
        self.crawler.stats.inc_value("withdraw/undecided")
        request = failure.request  # type: ignore[attr-defined]
        logger.warning("withdrawal check of %s decided nothing: %s", request.url,
                       _failure_reason(failure))

    async def _withdraw_decide(self) -> None:
        """Every check answered: apply them unless the valve trips; when it trips, the run
        stops with the reason (exit status 7)."""
        from harvester.withdrawals import GUARD_CLOSE, apply, record_withdrawn

        check, stats, ctx = self._withdraw_check, self.crawler.stats, self.ctx
        if check.tripped():
            self._withdraw_phase = "tripped"
            stats.set_value("withdraw/guard_tripped", 1)
            self.stop_reason = check.reason()
            logger.error("%s", self.stop_reason)
            asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=GUARD_CLOSE))
            return
        try:
            lines = await ctx.io(apply, ctx.store, ctx.state, self.name, check, ctx.run_id,
                                 utc_now())
        except StoreError as exc:
            logger.error("could not record the withdrawals (the campaign stays open and the "
                         "next backfill checks again): %s", exc)
            self._withdraw_phase = "failed"
            self._wake_engine()
            return
        for line in lines:
            logger.info("withdrawn: record %s (%s)", line["record_id"], line["url"])
            self.crawler.signals.send_catch_log(record_withdrawn, line=line)
        stats.set_value("withdraw/withdrawn", len(lines))
        stats.set_value("withdraw/marked_missing", len(check.to_mark()))
        self._withdraw_phase = "passed"
        self._wake_engine()


def _declared_encoding(response: Response) -> str | None:
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    if "charset=" in content_type:
        return content_type.split("charset=", 1)[1].split(";")[0].strip().strip("\"'") or None
    return None


def _cursor_of(meta: dict[str, Any]) -> Any:
    """The cursor of a listing request (requests queued by older versions carry only the
    page number)."""
    return meta["cursor"] if "cursor" in meta else int(meta.get("page") or 0)


def _more_promised(prior: dict[str, Any]) -> bool:
    """The page before said more results follow ("1 - 100 of 250")."""
    shown_to, total = prior.get("shown_to"), prior.get("total")
    return shown_to is not None and total is not None and shown_to < total


def _failure_reason(failure: Failure) -> str:
    exc = failure.value
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{type(exc).__name__}: {exc}"[:300]
