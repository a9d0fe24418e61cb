"""OaiIndexUpdater: keeps the store's OAI index (index/oai/) up to date as runs finish.

It notes what each record the run stored holds for the index (type, raw metadata
prefixes) as items are scraped, and once the run's final report and changes feed are
written (RunReport's `report_written` signal) indexes the site's feeds not indexed yet.
A failure to update is logged and never changes the run's exit status: the next run's
update (or `harvester serve oai --rebuild-index`) indexes what this one missed.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from harvester.config import setting_bool, setting_int
from harvester.extensions.runreport import report_written
from harvester.items import DocumentItem
from harvester.oaiserve.build import RecordMeta, record_meta, update_index

logger = logging.getLogger(__name__)


class OaiIndexUpdater:
    def __init__(self, crawler: Any, segment_size: int) -> None:
        self.crawler = crawler
        self.segment_size = segment_size
        self.known: dict[str, RecordMeta] = {}
        self._shared: dict[RecordMeta, RecordMeta] = {}  # one object per distinct value

    @classmethod
    def from_crawler(cls, crawler: Any) -> OaiIndexUpdater:
        if not setting_bool(crawler.settings, "HARVESTER_OAI_INDEX"):
            raise NotConfigured("HARVESTER_OAI_INDEX is off")
        ext = cls(crawler, setting_int(crawler.settings, "HARVESTER_OAI_SEGMENT_SIZE"))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.report_written, signal=report_written)
        return ext

    def item_scraped(self, item: Any, **kwargs: Any) -> None:
        if isinstance(item, DocumentItem) and item.status in {"new", "changed", "restored"}:
            meta = record_meta(item.record)
            self.known[item.record["record_id"]] = self._shared.setdefault(meta, meta)

    async def report_written(self, report: dict[str, Any], ctx: Any, **kwargs: Any) -> None:
        stats = self.crawler.stats
        store = getattr(ctx.store, "inner", ctx.store)  # never into the spool
        try:
            result = await ctx.io(update_index, store, ctx.site, known=self.known,
                                  segment_size=self.segment_size)
        except Exception as exc:  # noqa: BLE001 - the next run's update catches up
            logger.warning("the OAI index could not be updated (the next run does it): %s", exc)
            stats.inc_value("oai_index/failed")
            return
        finally:
            self.known, self._shared = {}, {}
        if result is not None:
            stats.set_value("oai_index/generation", result.generation)
            stats.set_value("oai_index/entries_changed", result.entries_changed)
            logger.info("OAI index generation %d: %d records changed (%d feeds indexed)",
                        result.generation, result.entries_changed, result.feeds_indexed)
