"""RedisScheduler (scrapy-redis subclass) in-process against a real Redis, and the JSON
serializer of queued requests."""

from __future__ import annotations

import contextlib

import pytest
import redis
import scrapy
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.utils.test import get_crawler
from scrapy_redis.scheduler import Scheduler

from harvester.distributed import serializer
from harvester.distributed.coordinator import (
    IDLE_DONE_HERE,
    IDLE_WORK_REMAINS,
    CrawlCoordinator,
)
from harvester.distributed.keys import CrawlKeys
from harvester.distributed.scheduler import RedisScheduler


class ListingSpider(scrapy.Spider):
    name = "wilson"

    def parse_listing(self, response: object) -> None:
        pass

    def failed(self, failure: object) -> None:
        pass


def make(client: redis.Redis, name: str = "w1") -> tuple[RedisScheduler, ListingSpider]:
    crawler = get_crawler(ListingSpider)
    spider = ListingSpider()
    coordinator = CrawlCoordinator(client, CrawlKeys("t", "wilson"), worker_id=name)
    scheduler = RedisScheduler(coordinator, crawler.stats)
    scheduler.open(spider)
    return scheduler, spider


def listing(spider: ListingSpider, page: int) -> scrapy.Request:
    return scrapy.Request(f"http://127.0.0.1:1/search?page={page}", callback=spider.parse_listing,
                          errback=spider.failed, priority=-page,
                          meta={"page": page, "kind": "listing"})


def test_seeds_from_several_workers_are_queued_once(redis_client: redis.Redis) -> None:
    one, spider1 = make(redis_client, "w1")
    two, spider2 = make(redis_client, "w2")
    assert one.coordinator.crawl == two.coordinator.crawl
    assert one.enqueue_request(listing(spider1, 0))
    assert not two.enqueue_request(listing(spider2, 0))  # the other worker's seed: dropped
    assert two.has_pending_requests() and len(one) == 1
    request = two.next_request()  # any worker may take it
    assert request is not None and request.url.endswith("page=0")
    assert request.callback == spider2.parse_listing and request.errback == spider2.failed
    assert request.meta == {"page": 0, "kind": "listing", "redis_claim": "1"}  # w2 claims it
    assert one.next_request() is None


def test_priority_order_and_close_keeps_the_crawl(redis_client: redis.Redis) -> None:
    scheduler, spider = make(redis_client)
    for page in (3, 1, 2):
        scheduler.enqueue_request(listing(spider, page))
    scheduler.close("finished")  # one worker leaving does not flush the shared crawl
    keys = scheduler.coordinator.keys
    assert redis_client.zcard(keys.requests) == 3 and redis_client.scard(keys.seen) == 3
    pages = [scheduler.next_request().meta["page"] for _ in range(3)]  # type: ignore[union-attr]
    assert pages == [1, 2, 3]  # higher priority (earlier page) first


def test_queued_requests_are_json_not_pickle(redis_client: redis.Redis) -> None:
    scheduler, spider = make(redis_client)
    scheduler.enqueue_request(listing(spider, 7))
    raw = redis_client.zrange(scheduler.coordinator.keys.requests, 0, 0)[0]
    assert raw.startswith(b"{") and b'"callback":"parse_listing"' in raw


def test_stock_scrapy_redis_scheduler_warns_on_scrapy_2_19(redis_url: str) -> None:
    """Why RedisScheduler overrides enqueue/next: scrapy-redis 0.9.1 passes spider= to the
    stats, deprecated in Scrapy 2.19 (warnings are errors here, so RedisScheduler's tests
    above also prove it does not)."""
    # (it also needs its own DUPEFILTER_CLASS: Scrapy's RFPDupeFilter lost from_settings)
    crawler = get_crawler(ListingSpider, {
        "REDIS_URL": redis_url, "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter"})
    spider = ListingSpider.from_crawler(crawler)
    stock = Scheduler.from_crawler(crawler)
    stock.open(spider)
    try:
        with pytest.warns(ScrapyDeprecationWarning, match="spider"):
            stock.enqueue_request(listing(spider, 0))
    finally:
        stock.flush()


def test_serializer_round_trip() -> None:
    spider = ListingSpider()
    request = scrapy.Request(
        "http://127.0.0.1:1/document/x", method="POST", body=b"\x00\xffbinary",
        headers={"Accept": ["text/html", "*/*"], "X-Bytes": b"\xe9"}, cookies={"a": "b"},
        callback=spider.parse_listing, priority=100, dont_filter=True,
        meta={"page": None, "retry_times": 2, "redirect_urls": ["http://a/1"], "$b": "tag",
              "nested": {"k": [1, 2.5, True]}},
    )
    data = request.to_dict(spider=spider)
    encoded = serializer.dumps(data)
    assert serializer.loads(encoded) == data
    back = scrapy.utils.request.request_from_dict(serializer.loads(encoded), spider=spider)
    assert (back.body, back.method, back.priority) == (request.body, "POST", 100)
    assert back.headers.getlist("Accept") == [b"text/html", b"*/*"]
    assert back.meta == request.meta


def test_serializer_refuses_objects() -> None:
    with pytest.raises(TypeError, match="cannot queue"):
        serializer.dumps({"meta": {"when": object()}})
    with pytest.raises(ValueError):
        serializer.loads(b"[1, 2]")


class KilledAfter(redis.Redis):
    """A client whose process dies after `budget` more commands: the next is never sent."""

    budget = 1 << 30

    def execute_command(self, *args: object, **options: object) -> object:
        if self.budget <= 0:
            raise redis.ConnectionError("worker killed")
        self.budget -= 1
        return super().execute_command(*args, **options)


@pytest.mark.parametrize("commands", [0, 1, 2, 3])
def test_a_worker_killed_while_queuing_leaves_no_request_seen_but_unqueued(
        redis_url: str, redis_client: redis.Redis, commands: int) -> None:
    """Whatever the command a worker dies at, a follow-up is either queued or not marked
    seen: when the listing page is fetched again, it queues what was not queued."""
    client = KilledAfter.from_url(redis_url)
    scheduler, spider = make(client)  # type: ignore[arg-type]
    keys = scheduler.coordinator.keys
    follow_up = scrapy.Request("http://127.0.0.1:1/document/101416", priority=5,
                               meta={"redis_parent": "1"})
    client.budget = commands
    with contextlib.suppress(redis.ConnectionError):
        scheduler.enqueue_request(follow_up)
    fingerprint = scheduler.df.request_fingerprint(follow_up)
    seen = bool(redis_client.sismember(keys.seen, fingerprint))
    queued = [raw for raw in redis_client.zrange(keys.requests, 0, -1) if b"101416" in raw]
    assert seen == bool(queued), f"seen {seen}, queued {len(queued)} after {commands} commands"
    # the listing page, fetched again by another worker, queues it now if it was lost
    other, spider2 = make(redis_client, "w2")
    other.enqueue_request(follow_up.replace(meta={}))
    assert len([raw for raw in redis_client.zrange(keys.requests, 0, -1)
                if b"101416" in raw]) == 1


def test_a_queued_retry_releases_the_claim_it_replaces(redis_client: redis.Redis) -> None:
    scheduler, spider = make(redis_client)
    scheduler.enqueue_request(listing(spider, 1))
    request = scheduler.next_request()
    assert request is not None
    inflight = scheduler.coordinator.keys.inflight("w1")
    assert redis_client.hkeys(inflight) == [b"1"]
    retry = request.replace(dont_filter=True)  # as RetryMiddleware queues it
    assert scheduler.enqueue_request(retry)  # not dropped as a duplicate of itself
    assert redis_client.hkeys(inflight) == []  # the claim is done: the retry is queued
    again = scheduler.next_request()
    assert again is not None and again.meta["page"] == 1 and again.meta["redis_claim"] == "2"


def test_a_follow_up_that_could_not_be_queued_is_queued_again_from_its_listing(
        redis_url: str, redis_client: redis.Redis) -> None:
    """Redis fails while a listing page's follow-up is queued: the error is logged, the
    listing page stays claimed, and at idle it goes back to the frontier (fetched again,
    its follow-ups are queued), so the crawl is not found done without it."""
    client = KilledAfter.from_url(redis_url)
    scheduler, spider = make(client)  # type: ignore[arg-type]
    keys = scheduler.coordinator.keys
    scheduler.enqueue_request(listing(spider, 0))
    claimed = scheduler.next_request()
    assert claimed is not None and claimed.meta["redis_claim"] == "1"
    follow_up = scrapy.Request("http://127.0.0.1:1/document/101416",
                               meta={"redis_parent": "1"})
    client.budget = 0  # Redis is unreachable now
    assert scheduler.enqueue_request(follow_up) is False  # no exception into the engine
    assert scheduler.next_request() is None
    client.budget = 1 << 30  # back
    assert scheduler.stats.get_value("redis/push_errors") == 1
    assert not redis_client.sismember(keys.seen, scheduler.df.request_fingerprint(follow_up))
    assert scheduler.coordinator.idle() == IDLE_WORK_REMAINS
    again = scheduler.next_request()  # the listing page, to be fetched again
    assert again is not None and again.meta["page"] == 0
    # after a clean stretch, idle releases what is held as before
    assert scheduler.enqueue_request(follow_up.replace(meta={"redis_parent": "2"}))
    scheduler.coordinator.listing_parsed("2", 1)
    assert scheduler.next_request() is not None  # the document
    assert scheduler.coordinator.idle() == IDLE_DONE_HERE


def test_a_claim_sent_again_after_a_lost_reply_pops_nothing_more(
        redis_client: redis.Redis) -> None:
    """redis-py sends a script again when its reply is lost; the claim id is the same, and
    the second run must answer with the first pop, not pop (and lose) another request."""
    scheduler, spider = make(redis_client)
    for page in (1, 2):
        scheduler.enqueue_request(listing(spider, page))
    coordinator, keys = scheduler.coordinator, scheduler.coordinator.keys
    args = {"keys": [keys.requests, keys.busy, keys.inflight("w1")],
            "args": ["w1", "7", coordinator.key_ttl]}
    first = coordinator._claim(**args)
    assert coordinator._claim(**args) == first  # the retry
    assert redis_client.zcard(keys.requests) == 1  # page 2 is still queued
    assert redis_client.hgetall(keys.inflight("w1")) == {b"7": first}
