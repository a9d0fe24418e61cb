"""RunPipeline: the shared shape of the document pipelines.

Each takes the run's context and the stats collector as plain values (a test builds one
without a crawler) and handles DocumentItems only, passing anything else through. A
PageItem (the records that came whole with a listing page) is handled document by
document, all of the page's at once (`process_page`).

A page's documents are started one after the other right here, each run up to its first
wait: most never wait at all (a record finalized where its page was parsed, an unseen
document of a backfill), and those are done without a task of their own (asyncio.gather
wraps each in a Task: ~7 us a document and pipeline, a tenth of it this way). The rest of
a document that does wait goes on as a task, as it would under gather.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.log import logformatter_adapter
from twisted.python.failure import Failure

from harvester.context import RunContext
from harvester.items import DocumentItem, PageItem

logger = logging.getLogger(__name__)


async def process_page(page: PageItem, handle: Callable[[DocumentItem], Coroutine[Any, Any, Any]],
                       crawler: Any | None) -> PageItem:
    """`handle` each of the page's documents, together. A document it drops (DropItem) or
    fails on leaves the page, logged and signalled (item_dropped, item_error) as Scrapy
    does for an item of its own, so the run counts it as before; the others stay. Without a
    crawler (a test's pipeline) the first such exception is raised."""
    results = await _all_settled([handle(doc) for doc in page.documents])
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


async def _all_settled(coros: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """`asyncio.gather(*coros, return_exceptions=True)`, each coroutine started here in
    turn (in the caller's task and context) and only the ones that wait handed to tasks."""
    results: list[Any] = [None] * len(coros)
    waiting: list[tuple[int, asyncio.Future[Any]]] = []
    for index, coro in enumerate(coros):
        try:
            first = coro.send(None)
        except StopIteration as stop:
            results[index] = stop.value
        except BaseException as exc:  # noqa: BLE001 - the document's outcome, as gather's
            if not isinstance(exc, Exception):
                for other in coros[index + 1:]:
                    other.close()
                raise
            results[index] = exc
        else:
            waiting.append((index, asyncio.ensure_future(_Rest(coro, first))))
    if waiting:
        done = await asyncio.gather(*(task for _, task in waiting), return_exceptions=True)
        for (index, _), result in zip(waiting, done, strict=True):
            results[index] = result
    return results


class _Rest:
    """The rest of a coroutine run by hand up to its first wait (`first`: what it waits
    for), driven on as a task drives one: what the task sends or throws goes on to it."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.first
        self.first = None
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown into the coroutine (a cancel)
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


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
