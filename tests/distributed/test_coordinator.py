"""CrawlCoordinator against a real Redis: joining, claims, termination, dead workers."""

from __future__ import annotations

import time

import redis

from harvester.distributed.coordinator import (
    IDLE_DONE_EARLIER,
    IDLE_DONE_HERE,
    IDLE_WORK_REMAINS,
    CrawlCoordinator,
)
from harvester.distributed.keys import CrawlKeys


def worker(client: redis.Redis, name: str, timeout: float = 60.0) -> CrawlCoordinator:
    return CrawlCoordinator(client, CrawlKeys("t", "wilson"), worker_id=name,
                            worker_timeout=timeout, key_ttl=600, done_ttl=30)


def test_workers_join_one_crawl(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a"), worker(redis_client, "b")
    crawl = a.join()
    assert b.join() == crawl
    assert (a.joined_existing, b.joined_existing) == (False, True)
    assert redis_client.get("t:wilson:crawl") == crawl.encode()
    # both start out busy: nobody can find the crawl done before they seeded it
    assert redis_client.zcard(a.keys.busy) == 2


def test_done_only_when_frontier_empty_and_nobody_busy(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a"), worker(redis_client, "b")
    a.join()
    b.join()
    redis_client.zadd(a.keys.requests, {b"req-1": 0})
    assert a.idle() == IDLE_WORK_REMAINS  # a request is queued, and b is busy
    assert b.claim() == ("1", b"req-1")  # the pop marks b busy in the same script
    assert redis_client.zcard(a.keys.requests) == 0
    assert a.idle() == IDLE_WORK_REMAINS  # the frontier is empty, but b holds req-1
    assert b.idle() == IDLE_DONE_HERE  # b finished req-1 without producing more
    assert b.finalizer and not a.finalizer
    assert a.idle() == IDLE_DONE_EARLIER
    assert redis_client.get("t:wilson:crawl") is None  # the next run starts a new crawl
    assert 0 < redis_client.ttl(a.keys.info) <= 30


def test_claim_marks_the_claimer_busy(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a"), worker(redis_client, "b")
    a.join()
    b.join()
    redis_client.zadd(a.keys.requests, {b"r1": 0, b"r2": 1})
    a.idle()
    b.idle()
    assert redis_client.zcard(a.keys.busy) == 0
    assert a.claim() == ("1", b"r1")  # lowest score first (scrapy-redis: score = -priority)
    assert redis_client.zrange(a.keys.busy, 0, -1) == [b"a"]
    assert redis_client.hgetall(a.keys.inflight("a")) == {b"1": b"r1"}  # a's claim
    assert b.claim() == ("1", b"r2")
    assert b.claim() is None
    assert b.idle() == IDLE_WORK_REMAINS  # a still holds r1
    assert a.idle() == IDLE_DONE_HERE


def test_a_dead_workers_claims_go_back_to_the_frontier(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a", timeout=0.5), worker(redis_client, "b", timeout=0.5)
    a.join()
    b.join()
    page = b'{"priority":-3,"url":"http://x/search?page=3"}'
    doc = b'{"priority":100,"url":"http://x/document/d"}'
    redis_client.zadd(a.keys.requests, {page: 3, doc: -100})
    assert b.claim() == ("1", doc)
    assert b.claim() == ("2", page)
    b.release("1")  # b finished the document, then died holding the listing page
    assert a.idle() == IDLE_WORK_REMAINS  # b (busy) is alive
    time.sleep(0.7)
    assert a.idle() == IDLE_WORK_REMAINS  # b reaped: its claim is queued again
    assert redis_client.zrange(a.keys.requests, 0, -1, withscores=True) == [(page, 3.0)]
    assert not redis_client.exists(a.keys.inflight("b"))
    info = a.info()
    assert (info.reaped, info.requeued) == (1, 1)
    assert redis_client.zrange(a.keys.workers, 0, -1) == [b"a"]
    assert a.claim() == ("1", page)
    assert a.idle() == IDLE_DONE_HERE


def test_listing_claim_released_when_its_follow_ups_are_queued(
        redis_client: redis.Redis) -> None:
    a = worker(redis_client, "a")
    a.join()
    redis_client.zadd(a.keys.requests, {b"listing": 0})
    claim, _ = a.claim()  # type: ignore[misc]
    a.follow_up_queued(claim)  # the scraper queues follow-ups before or after the callback ends
    a.listing_parsed(claim, 2)
    assert redis_client.hexists(a.keys.inflight("a"), claim)
    a.follow_up_queued(claim)
    assert not redis_client.hexists(a.keys.inflight("a"), claim)


def test_heartbeat_keeps_a_slow_worker_alive(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a", timeout=0.5), worker(redis_client, "b", timeout=0.5)
    a.join()
    b.join()
    for _ in range(4):
        time.sleep(0.2)
        assert b.heartbeat() == 1
        assert a.idle() == IDLE_WORK_REMAINS
    assert a.info().reaped == 0


def test_a_reaped_worker_comes_back_busy(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a", timeout=0.3), worker(redis_client, "b", timeout=0.3)
    a.join()
    b.join()
    redis_client.zadd(a.keys.requests, {b"r1": 0})
    time.sleep(0.4)
    assert b.idle() == IDLE_WORK_REMAINS  # b reaps a (busy and silent); r1 is still queued
    assert b.info().reaped == 1
    assert b.claim() == ("1", b"r1")
    assert a.heartbeat() == 0  # a was only slow: back, and busy until it is idle
    assert b.idle() == IDLE_WORK_REMAINS
    assert a.idle() == IDLE_DONE_HERE


def test_a_crawl_whose_workers_all_died_is_resumed(redis_client: redis.Redis) -> None:
    a = worker(redis_client, "a", timeout=0.3)
    old = a.join()
    redis_client.zadd(a.keys.requests, {b"queued": 0, b"held": 1})
    redis_client.sadd(a.keys.seen, "fp")
    assert a.claim() == ("1", b"queued")
    time.sleep(0.4)  # every worker of the crawl died
    b = worker(redis_client, "b", timeout=0.3)
    assert b.join() == old and b.joined_existing
    assert sorted(redis_client.zrange(b.keys.requests, 0, -1)) == [b"held", b"queued"]
    assert redis_client.smembers(b.keys.seen) == {b"fp"}  # what was walked stays walked
    assert b.info().requeued == 1


def test_a_stopping_worker_puts_its_claims_back(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a"), worker(redis_client, "b")
    a.join()
    b.join()
    redis_client.zadd(a.keys.requests, {b"r1": 0})
    assert b.claim() == ("1", b"r1")
    assert b.leave() == 1  # b stops (SIGTERM, error) while holding r1
    assert a.idle() == IDLE_WORK_REMAINS
    assert a.claim() == ("1", b"r1")
    assert a.idle() == IDLE_DONE_HERE
    assert a.leave() == 0


def test_agreement_and_lock(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a"), worker(redis_client, "b")
    a.join()
    b.join()
    with a.lock("mode"):
        assert b.info().mode == ""
        a.agree(mode="backfill", campaign="c1", limited="0")
    with b.lock("mode"):
        info = b.info()
    assert (info.mode, info.campaign, info.limited, info.listing_exhausted) == (
        "backfill", "c1", False, False)


def test_join_only_never_starts_a_crawl(redis_client: redis.Redis) -> None:
    pool = worker(redis_client, "pool")
    assert pool.join(may_start=False) == "" and pool.running_crawl() == ""
    assert redis_client.get("t:wilson:crawl") is None
    crawl = worker(redis_client, "cron").join()
    assert pool.running_crawl() == crawl
    assert pool.join(may_start=False) == crawl and pool.joined_existing
