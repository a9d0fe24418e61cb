"""RunPipeline: the shared shape of the document pipelines.

Each takes the run's context and the stats collector as plain values (a test builds one
without a crawler) and handles DocumentItems only, passing anything else through.
"""

from __future__ import annotations

from typing import Any

from harvester.context import RunContext
from harvester.items import DocumentItem


class RunPipeline:
    def __init__(self, ctx: RunContext, stats: Any) -> None:
        self.ctx = ctx
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        return cls(RunContext.of(crawler), crawler.stats)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, DocumentItem):
            return item
        return await self.process_document(item)

    async def process_document(self, item: DocumentItem) -> DocumentItem:
        raise NotImplementedError
