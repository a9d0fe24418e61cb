"""CrawlCoordinator against a real Redis: joining, claiming, termination, dead workers."""

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
    assert b.claim() == b"req-1"  # the pop marks b busy in the same script
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
    assert a.claim() == b"r1"  # lowest score first (scrapy-redis: score = -priority)
    assert redis_client.zrange(a.keys.busy, 0, -1) == [b"a"]
    assert b.claim() == b"r2"
    assert b.claim() is None
    assert b.idle() == IDLE_WORK_REMAINS  # a still holds r1
    assert a.idle() == IDLE_DONE_HERE


def test_a_dead_busy_worker_is_reaped_and_counted_lost(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a", timeout=0.5), worker(redis_client, "b", timeout=0.5)
    a.join()
    b.join()
    assert a.idle() == IDLE_WORK_REMAINS  # b (busy) is alive
    time.sleep(0.7)  # b stops heartbeating: it was killed
    assert a.idle() == IDLE_DONE_HERE
    assert a.info().lost == 1
    assert redis_client.zrange(a.keys.workers, 0, -1) == [b"a"]


def test_heartbeat_keeps_a_slow_worker_alive(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a", timeout=0.5), worker(redis_client, "b", timeout=0.5)
    a.join()
    b.join()
    for _ in range(4):
        time.sleep(0.2)
        assert b.heartbeat() == 1
        assert a.idle() == IDLE_WORK_REMAINS
    assert a.info().lost == 0


def test_a_reaped_worker_comes_back_busy(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a", timeout=0.3), worker(redis_client, "b", timeout=0.3)
    a.join()
    b.join()
    redis_client.zadd(a.keys.requests, {b"r1": 0})
    time.sleep(0.4)
    assert b.idle() == IDLE_WORK_REMAINS  # b reaps a (busy and silent); r1 is still queued
    assert b.info().lost == 1
    assert b.claim() == b"r1"
    assert a.heartbeat() == 0  # a was only slow: back, and busy until it is idle
    assert b.idle() == IDLE_WORK_REMAINS
    assert a.idle() == IDLE_DONE_HERE
    assert a.info().lost == 1  # its loss stays counted: the campaign stays open


def test_an_abandoned_crawl_is_not_joined(redis_client: redis.Redis) -> None:
    a = worker(redis_client, "a", timeout=0.3)
    old = a.join()
    redis_client.zadd(a.keys.requests, {b"left-behind": 0})
    time.sleep(0.4)  # every worker of the crawl died
    b = worker(redis_client, "b", timeout=0.3)
    assert b.join() != old
    assert not b.joined_existing
    assert b.pending() == 0  # a fresh frontier and seen-set


def test_leaving_with_work_in_flight_counts_a_loss(redis_client: redis.Redis) -> None:
    a, b = worker(redis_client, "a"), worker(redis_client, "b")
    a.join()
    b.join()
    assert b.leave(lost=True)  # b stops (SIGTERM, error) while busy
    assert a.idle() == IDLE_DONE_HERE
    assert a.info().lost == 1


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
