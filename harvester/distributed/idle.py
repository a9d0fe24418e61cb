"""CrawlIdle: a worker stays while the crawl has work anywhere, and leaves when it is done.

Scrapy calls spider_idle when this worker has nothing in flight and the shared frontier
looked empty. The worker then leaves the busy set; if the frontier is empty and no live
worker is busy, the crawl is done and the spider closes ("finished"). Otherwise it stays
(DontCloseSpider) and looks at the frontier again every HARVESTER_REDIS_IDLE_POLL seconds,
since requests other workers push do not wake its engine. A heartbeat keeps the worker
alive in Redis; one that stops beating is reaped by the others after
HARVESTER_REDIS_WORKER_TIMEOUT and the requests it held are queued again. A worker that
stops early (SIGTERM, an error) puts what it held back into the frontier as it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured

from harvester.config import setting_float
from harvester.distributed.coordinator import IDLE_WORK_REMAINS, CrawlCoordinator

logger = logging.getLogger(__name__)

CLOSE_REDIS_DOWN = "redis_unavailable"


class CrawlIdle:
    def __init__(self, crawler: Any, coordinator: CrawlCoordinator, *, heartbeat: float,
                 poll: float, give_up: float) -> None:
        self.crawler = crawler
        self.coordinator = coordinator
        self.heartbeat_seconds = heartbeat
        self.poll = poll
        self.give_up = give_up  # seconds of Redis errors after which the worker stops
        self.done = False
        self._beat: asyncio.Task[None] | None = None
        self._failing_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlIdle:
        s = crawler.settings
        if not s.get("HARVESTER_REDIS_URL"):
            raise NotConfigured
        ext = cls(crawler, CrawlCoordinator.of(crawler),
                  heartbeat=setting_float(s, "HARVESTER_REDIS_HEARTBEAT"),
                  poll=setting_float(s, "HARVESTER_REDIS_IDLE_POLL"),
                  give_up=setting_float(s, "HARVESTER_REDIS_WORKER_TIMEOUT"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self._beat = asyncio.ensure_future(self._heartbeat())

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                self.coordinator.heartbeat()
            except Exception as exc:  # noqa: BLE001 - the next beat tries again
                logger.warning("crawl %s: heartbeat failed: %s", self.coordinator.crawl, exc)

    def spider_idle(self, spider: Any) -> None:
        try:
            state = self.coordinator.idle()
        except Exception as exc:  # noqa: BLE001 - Redis down: wait, then give up
            now = time.monotonic()
            self._failing_since = self._failing_since or now
            if now - self._failing_since >= self.give_up:
                raise CloseSpider(CLOSE_REDIS_DOWN) from exc
            logger.warning("crawl %s: Redis unavailable (%s); retrying", self.coordinator.crawl,
                           exc)
            self._wake_later()
            raise DontCloseSpider from exc
        self._failing_since = None
        if state != IDLE_WORK_REMAINS:
            self.done = True
            self.crawler.stats.set_value("redis/finalizer", self.coordinator.finalizer)
            logger.info("crawl %s is done", self.coordinator.crawl)
            return
        self.crawler.stats.inc_value("redis/idle_waits")
        self._wake_later()
        raise DontCloseSpider

    def _wake_later(self) -> None:
        """Look at the shared frontier again after `poll` seconds, not Scrapy's 5 s heartbeat:
        requests pushed by other workers do not wake this engine. (Scrapy has no public
        call for this; without the private slot the engine's own heartbeat still runs.)"""
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule(self.poll)

    async def spider_closed(self, spider: Any, reason: str) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        try:
            requeued = self.coordinator.leave()
        except Exception as exc:  # noqa: BLE001 - the others reap this worker by timeout
            logger.warning("crawl %s: could not leave cleanly: %s", self.coordinator.crawl, exc)
            return
        if requeued:
            logger.warning("crawl %s: this worker stopped early (%s); %d request(s) it held are "
                           "queued again for the others", self.coordinator.crawl, reason,
                           requeued)
