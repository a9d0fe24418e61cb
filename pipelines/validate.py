"""ValidatePipeline: completes each record (site, content hash, harvest time) and checks it
against the record schema. An invalid record is quarantined with the reason, never stored.
A listed record finalized already where its page was parsed (harvester/prefinal.py) goes on
as it is."""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

from harvester.context import utc_now
from harvester.exceptions import HarvesterError, InvalidRecord
from harvester.items import DocumentItem
from harvester.quarantine import quarantine
from harvester.record import finalize
from pipelines.base import RunPipeline

logger = logging.getLogger(__name__)


class ValidatePipeline(RunPipeline):
    async def process_document(self, item: DocumentItem) -> DocumentItem:
        if item.encoded is not None:  # a listed record its page's parse finalized
            item.body = b""  # (harvester/prefinal.py)
            self.stats.inc_value("validation/valid")
            return item
        try:
            item.record = finalize(item.record, site=self.ctx.site, harvested_at=utc_now())
        except (InvalidRecord, HarvesterError) as exc:
            reason = str(exc)
            field = reason.split(":", 1)[0].strip() or "record"
            self.stats.inc_value(f"validation/invalid/{field}")
            self.ctx.count_quarantined(self.stats, item.url)
            logger.warning("quarantined %s: %s", item.url, reason)
            await self.ctx.io(quarantine, self.ctx.store, self.ctx.site, item.url, reason,
                              type(exc).__name__, item.body, self.ctx.run_id, utc_now())
            raise DropItem(f"invalid record: {reason}") from None
        finally:
            item.body = b""
        self.stats.inc_value("validation/valid")
        return item
