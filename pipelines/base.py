"""RunPipeline: the shared shape of the document pipelines.

Each takes the run's context and the stats collector as plain values (a test builds one
without a crawler) and handles DocumentItems only, passing anything else through. A
PageItem (the records that came whole with a listing page) is handled document by
document, all of the page's at once (`process_page`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.log import logformatter_adapter
from twisted.python.failure import Failure

from harvester.context import RunContext
from harvester.items import DocumentItem, PageItem

logger = logging.getLogger(__name__)


async def process_page(page: PageItem, handle: Callable[[DocumentItem], Awaitable[Any]],
                       crawler: Any | None) -> PageItem:
    """`handle` each of the page's documents, together. A document it drops (DropItem) or
    fails on leaves the page, logged and signalled (item_dropped, item_error) as Scrapy
    does for an item of its own, so the run counts it as before; the others stay. Without a
    crawler (a test's pipeline) the first such exception is raised."""
    results = await asyncio.gather(*(handle(doc) for doc in page.documents),
                                   return_exceptions=True)
    kept: list[DocumentItem] = []
    for doc, result in zip(page.documents, results, strict=True):
        if not isinstance(result, BaseException):
            kept.append(result)
        elif not isinstance(result, Exception) or crawler is None:
            raise result
        else:
            await _document_left(crawler, page, doc, result)
    page.documents = kept
    return page


async def _document_left(crawler: Any, page: PageItem, doc: DocumentItem,
                         exc: Exception) -> None:
    spider, response = crawler.spider, page.response
    if isinstance(exc, DropItem):
        logkws = crawler.logformatter.dropped(doc, exc, response, spider)
        if logkws is not None:
            logger.log(*logformatter_adapter(logkws), extra={"spider": spider, "item": doc})
        await crawler.signals.send_catch_log_async(
            signal=signals.item_dropped, item=doc, response=response, spider=spider,
            exception=exc)
        return
    failure = Failure(exc, type(exc), exc.__traceback__)
    logkws = crawler.logformatter.item_error(doc, exc, response, spider)
    logger.log(*logformatter_adapter(logkws), extra={"spider": spider, "item": doc},
               exc_info=(type(exc), exc, exc.__traceback__))
    await crawler.signals.send_catch_log_async(
        signal=signals.item_error, item=doc, response=response, spider=spider,
        failure=failure)


class RunPipeline:
    def __init__(self, ctx: RunContext, stats: Any, crawler: Any | None = None) -> None:
        self.ctx = ctx
        self.stats = stats
        self.crawler: Any = crawler  # for the signals of a page's documents (process_page)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        pipeline = cls(RunContext.of(crawler), crawler.stats)
        pipeline.crawler = crawler
        return pipeline

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            return await process_page(item, self.process_document, self.crawler)
        if not isinstance(item, DocumentItem):
            return item
        return await self.process_document(item)

    async def process_document(self, item: DocumentItem) -> DocumentItem:
        raise NotImplementedError
