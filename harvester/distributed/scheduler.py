"""RedisScheduler: scrapy-redis's scheduler, priority queue and dupefilter on the crawl's keys.

What differs from scrapy-redis 0.9.1 (released before Scrapy 2.16), and why:
- keys are the crawl's (`<prefix>:<site>:<crawl>:requests|seen`), known only once the
  worker joined the crawl in `open()`, not `<spider>:requests` shared by every run;
- `close()` leaves the queue and the seen-set alone: the crawl outlives one worker
  (scrapy-redis flushes both unless SCHEDULER_PERSIST, and its dupefilter deletes its key);
- a pop also marks the worker busy and files the request as its claim, in one Lua script;
  a queued retry or redirect, or the last follow-up of a listing page, releases the claim
  (see coordinator.py);
- a worker takes no request while its downloader holds more than it can start now and one
  more (per host: CONCURRENT_REQUESTS_PER_DOMAIN, and the next one, due after the
  politeness delay): it claims what it can fetch next, not CONCURRENT_REQUESTS requests at
  once, so the workers share a short frontier (an OAI-PMH backfill's date windows) instead
  of the first ones holding all of it;
- the seen-set check and the push are one Lua script (scrapy-redis makes two calls): a
  worker killed between them would leave a request marked seen and never queued, which
  the listing page fetched again by another worker would not queue either;
- stats are counted without the `spider=` argument Scrapy 2.19 deprecates;
- requests are queued as JSON (serializer.py), not pickle.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request, Spider
from scrapy.exceptions import CloseSpider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from harvester.distributed import serializer
from harvester.distributed.coordinator import CrawlCoordinator

logger = logging.getLogger(__name__)

CLOSE_NO_CRAWL = "no_crawl_to_join"
CLAIM = "redis_claim"  # request meta: the claim id of a request this worker popped
PARENT = "redis_parent"  # request meta: the claim of the listing page that produced it


class CrawlQueue(PriorityQueue):
    """The crawl's frontier; a pop claims the request for this worker (marks it busy)."""

    def __init__(self, coordinator: CrawlCoordinator, spider: Spider) -> None:
        super().__init__(coordinator.server, spider, coordinator.keys.requests,
                         serializer=serializer)
        self.coordinator = coordinator

    def pop(self, timeout: int = 0) -> Request | None:
        claimed = self.coordinator.claim()
        if claimed is None:
            return None
        claim, data = claimed
        request: Request = self._decode_request(data)
        request.meta[CLAIM] = claim
        return request


class CrawlDupeFilter(RFPDupeFilter):
    """The crawl's seen-set: a request scheduled by any worker is not scheduled again."""

    def close(self, reason: str = "") -> None:
        """Keep the fingerprints: other workers still use them (expiry handles them)."""


class RedisScheduler(Scheduler):
    def __init__(self, coordinator: CrawlCoordinator, stats: Any = None,
                 debug: bool = False, crawler: Any = None) -> None:
        super().__init__(coordinator.server, persist=True, serializer=serializer)
        self.coordinator = coordinator
        self.stats = stats
        self.debug = debug
        self.crawler = crawler  # its downloader's backlog (None: not looked at)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedisScheduler:
        return cls(CrawlCoordinator.of(crawler), crawler.stats,
                   crawler.settings.getbool("DUPEFILTER_DEBUG"), crawler)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        coordinator = self.coordinator
        if not coordinator.join(may_start=not coordinator.join_only):
            # HARVESTER_REDIS_JOIN_ONLY, and the crawl ended since the runner looked
            raise CloseSpider(CLOSE_NO_CRAWL)
        self.queue = CrawlQueue(coordinator, spider)
        self.df = CrawlDupeFilter(coordinator.server, key=coordinator.keys.seen,
                                  debug=self.debug)
        if len(self.queue):
            logger.info("crawl %s: %d requests queued by other workers", coordinator.crawl,
                        len(self.queue))

    def close(self, reason: str) -> None:
        """The crawl's keys outlive this worker (CrawlIdle decides when the crawl is done)."""

    def enqueue_request(self, request: Request) -> bool:
        # a retry or redirect carries the claim of the request it replaces: the script that
        # queues it (or finds it a duplicate) releases that claim in the same step
        claim = request.meta.pop(CLAIM, None)
        parent = request.meta.pop(PARENT, None)
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        try:
            queued = self.coordinator.push(self.queue._encode_request(request),
                                           -request.priority, fingerprint, claim)
        except RedisError as exc:
            # not queued; the claim it came from (its listing page, or the request a retry
            # replaces) stays held and is queued again when this worker is next idle
            logger.error("crawl %s: could not queue %s (%s); it is queued again from the "
                         "request it came from", self.coordinator.crawl, request.url, exc)
            if self.stats:
                self.stats.inc_value("redis/push_errors")
            return False
        if parent:
            self.coordinator.follow_up_queued(parent)
        if not queued:
            self.df.log(request, self.spider)
            if self.stats:
                self.stats.inc_value("scheduler/duplicate/redis")
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def backlogged(self) -> bool:
        """This worker's downloader holds more requests than it can start now, and one more
        (the next one, due when the politeness delay is over): it takes nothing more from
        the shared frontier for now, and the engine asks again when a download ends. (A
        request a worker holds is one no other worker can take, and one its death sends
        back.) Requests the engine took in one go count from the start: they reach the
        host's slot only after the downloader middlewares."""
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None)
        if downloader is None:
            return False
        slots = list(downloader.slots.values())
        transferring = sum(len(slot.transferring) for slot in slots)
        free = sum(max(0, slot.concurrency - len(slot.transferring)) for slot in slots) \
            if slots else downloader.domain_concurrency
        return len(downloader.active) - transferring > free

    def next_request(self) -> Request | None:
        if self.backlogged():
            if self.stats:
                self.stats.inc_value("redis/backlogged")
            return None
        try:
            request = self.queue.pop()
        except RedisError as exc:  # the engine asks again; idle waits out an outage
            logger.warning("crawl %s: could not take a request (%s)", self.coordinator.crawl,
                           exc)
            if self.stats:
                self.stats.inc_value("redis/pop_errors")
            return None
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request
