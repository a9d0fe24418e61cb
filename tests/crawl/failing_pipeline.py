"""A pipeline for crawl tests: raises (not DropItem) on the records named in
$FAIL_RECORD_IDS, as a store or bug would. Put on the harvester's pipelines by
`with_failing_pipeline()`; the crawl process imports it from PYTHONPATH. A listing page's
whole records (PageItem) are handled one by one, as the harvester's own pipelines do."""

from __future__ import annotations

import json
import os
from typing import Any

from harvester.items import PageItem
from harvester.settings import ITEM_PIPELINES
from pipelines.base import process_page


class FailingPipeline:
    crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FailingPipeline:
        pipeline = cls()
        pipeline.crawler = crawler
        return pipeline

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            return await process_page(item, self._one, self.crawler)
        return await self._one(item)

    async def _one(self, item: Any) -> Any:
        record = getattr(item, "record", None) or {}
        if record.get("record_id") in os.environ.get("FAIL_RECORD_IDS", "").split(","):
            raise RuntimeError(f"injected failure for {record['record_id']}")
        return item


def with_failing_pipeline() -> list[str]:
    """`-s ITEM_PIPELINES=...` arguments: the harvester's pipelines, and this one before
    the store."""
    pipelines = {**ITEM_PIPELINES, f"{__name__}.FailingPipeline": 350}
    return ["-s", f"ITEM_PIPELINES={json.dumps(pipelines)}"]
