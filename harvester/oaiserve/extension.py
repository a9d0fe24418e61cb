"""OaiIndexUpdater: keeps the store's OAI index (index/oai/) up to date as runs finish.

It notes what each record the run stored holds for the index (type, raw metadata
prefixes; `KnownMetas`: the common value once, the records that differ by id) as items
are scraped, and once the run's final report and changes feed are written (RunReport's
`report_written` signal) indexes the site's feeds not indexed yet.
A failure to update is logged and never changes the run's exit status: the next run's
update (or `harvester serve oai --rebuild-index`) indexes what this one missed.

What it costs a run that changed nothing: no request at all, when the listing of runs/ the
run made at its start (`state.runs_listed`) shows no feed that may be pending:
- a run that stores or withdraws a record first writes `runs/<site>/<run_id>.oai-pending`
  (empty), and deletes it once its feed is indexed: a run killed after its feed was written
  but before its update, or whose update failed, leaves it for the next run to see;
- a run killed earlier (a report without a feed at the start of this run: its feed is
  composed now, by this run's recovery) is indexed too;
any of these in the listing, and the run updates the index as a run with changes does.
The markers of other runs whose feeds the update found indexed are deleted with its own
(one batch). A run with the index off (HARVESTER_OAI_INDEX=False) writes no marker: its
feed is indexed by the next run that changes something, or a rebuild.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from harvester import withdrawals
from harvester.config import setting_bool, setting_int
from harvester.context import RunContext
from harvester.extensions.runreport import report_written
from harvester.items import documents_of
from harvester.keys import CHANGES_SUFFIX, runs_prefix
from harvester.oaiserve.build import KnownMetas, record_meta, update_index

logger = logging.getLogger(__name__)

PENDING_SUFFIX = ".oai-pending"


def pending_key(site: str, run_id: str) -> str:
    return f"{runs_prefix(site)}{run_id}{PENDING_SUFFIX}"


def catch_up_needed(listed: list[str], site: str, run_id: str) -> list[str] | None:
    """From the listing of runs/ made when run `run_id` began: None when no earlier feed
    can be waiting for the index, else the run ids whose pending markers it shows (maybe
    none: a run without a feed then, whose feed this run's recovery may have composed)."""
    prefix = runs_prefix(site)
    names = [key[len(prefix):] for key in listed if key.startswith(prefix)]
    markers = [n[:-len(PENDING_SUFFIX)] for n in names if n.endswith(PENDING_SUFFIX)]
    markers = [r for r in markers if r != run_id]
    feeds = {n[:-len(CHANGES_SUFFIX)] for n in names if n.endswith(CHANGES_SUFFIX)}
    unfinished = [n[:-len(".json")] for n in names
                  if n.endswith(".json") and "/" not in n and n[:-len(".json")] not in feeds
                  and n[:-len(".json")] != run_id]
    return markers if markers or unfinished else None


class OaiIndexUpdater:
    def __init__(self, crawler: Any, segment_size: int) -> None:
        self.crawler = crawler
        self.segment_size = segment_size
        self.ctx: RunContext | None = None
        self.known: KnownMetas | None = None
        self.changes = 0  # lines this run's feed gets (stored and withdrawn records)
        self._marker: asyncio.Future[Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> OaiIndexUpdater:
        if not setting_bool(crawler.settings, "HARVESTER_OAI_INDEX"):
            raise NotConfigured("HARVESTER_OAI_INDEX is off")
        ext = cls(crawler, setting_int(crawler.settings, "HARVESTER_OAI_SEGMENT_SIZE"))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.record_withdrawn, signal=withdrawals.record_withdrawn)
        crawler.signals.connect(ext.report_written, signal=report_written)
        return ext

    def _context(self) -> RunContext:
        if self.ctx is None:
            self.ctx = RunContext.of(self.crawler)
        return self.ctx

    def _changed(self) -> None:
        """One more line in this run's feed; the first writes the pending marker."""
        self.changes += 1
        if self._marker is None:
            ctx = self._context()
            store = getattr(ctx.store, "inner", ctx.store)  # not spooled: durable now
            self._marker = asyncio.ensure_future(
                ctx.io(store.put, pending_key(ctx.site, ctx.run_id), b""))

    def item_scraped(self, item: Any, **kwargs: Any) -> None:
        for doc in documents_of(item):  # a document, or a listing page's (PageItem)
            if doc.status in {"new", "changed", "restored"}:
                if self.known is None:
                    self.known = KnownMetas(self._context().run_id)
                self.known.add(doc.record["record_id"], record_meta(doc.record))
                self._changed()

    def record_withdrawn(self, line: dict[str, Any], **kwargs: Any) -> None:
        self._changed()

    async def report_written(self, report: dict[str, Any], ctx: Any, **kwargs: Any) -> None:
        stats = self.crawler.stats
        store = getattr(ctx.store, "inner", ctx.store)  # never into the spool
        marked = False
        if self._marker is not None:
            try:
                await self._marker
                marked = True
            except Exception as exc:  # noqa: BLE001 - the update itself may still work
                logger.warning("could not write the OAI index's pending marker: %s", exc)
        listed = getattr(ctx.state, "runs_listed", None)
        others = catch_up_needed(listed, ctx.site, ctx.run_id) if listed is not None else []
        if self.changes == 0 and others is None:
            stats.set_value("oai_index/skipped", 1)  # nothing new, nothing pending: no request
            self.known = None
            return
        covered: set[str] = set()
        try:
            result = await ctx.io(update_index, store, ctx.site, known=self.known,
                                  segment_size=self.segment_size, covered=covered)
        except Exception as exc:  # noqa: BLE001 - the next run's update catches up
            logger.warning("the OAI index could not be updated (the next run does it): %s", exc)
            stats.inc_value("oai_index/failed")
            return
        finally:
            self.known = None
        done = [pending_key(ctx.site, r) for r in [*(others or []), *([ctx.run_id] if marked
                                                                       else [])]
                if r in covered]
        if done:
            try:
                await ctx.io(_delete_all, store, done)
            except Exception as exc:  # noqa: BLE001 - a marker left costs the next run an update
                logger.warning("could not delete the OAI index's pending markers: %s", exc)
        if result is not None:
            stats.set_value("oai_index/generation", result.generation)
            stats.set_value("oai_index/entries_changed", result.entries_changed)
            logger.info("OAI index generation %d: %d records changed (%d feeds indexed)",
                        result.generation, result.entries_changed, result.feeds_indexed)


def _delete_all(store: Any, keys: list[str]) -> None:
    many = getattr(store, "delete_many", None)
    if callable(many):
        many(keys)
    else:
        for key in keys:
            store.delete(key)
