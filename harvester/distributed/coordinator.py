"""CrawlCoordinator: one worker's membership in its site's shared crawl.

Termination rests on one invariant, kept by Lua scripts that run atomically in Redis:
*every request popped from the frontier belongs to a worker in the busy set until that
worker is idle*. A worker joins busy before its spider seeds anything, a pop marks the
popping worker busy in the same script, and a worker leaves busy only when its engine is
idle: nothing downloading, scraping or in its pipelines, so the requests its callbacks
produced are already in the frontier. The crawl is done exactly when the frontier and the
busy set are both empty; the worker whose idle check sees that first records `done` and
is the crawl's finalizer.

Kill-safety: a pop also files the request under the worker's claims
(`...:inflight:<worker>`, claim id -> request). A claim is released when its work is
complete: a document's record went through the pipelines (or it failed or was
quarantined), a listing page's follow-up requests are all in the frontier, a retry or
redirect of it was queued; and all at once when the worker is idle (unless one of its Redis
calls failed since its last idle: then the claims it still holds are queued again, since
their outcome may not have reached Redis). A worker that stops
heartbeating for `worker_timeout` seconds is dead: the next idle worker reaps it and puts
its claims back into the frontier, so the others do its in-flight work (a page it had
finished but not yet released is fetched again; records are create-only, so nothing is
stored twice). A worker stopping on a signal puts its own claims back as it leaves.
Timestamps are Redis server time, so workers on different machines agree.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harvester.config import setting_bool, setting_float, setting_int
from harvester.distributed.keys import CrawlKeys

logger = logging.getLogger(__name__)

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# Puts a worker's claimed requests back into the frontier (score -priority, as pushed).
_REQUEUE = """
local function requeue(prefix, w, requests)
  local key = prefix .. ':inflight:' .. w
  local entries = redis.call('HVALS', key)
  for _, data in ipairs(entries) do
    local score = 0
    local ok, req = pcall(cjson.decode, data)
    if ok and type(req) == 'table' and tonumber(req['priority']) then
      score = -tonumber(req['priority'])
    end
    redis.call('ZADD', requests, score, data)
  end
  redis.call('DEL', key)
  return #entries
end
"""

# KEYS[1] current-crawl pointer; ARGV: base, new crawl id, worker, timeout, ttl, may start
# Returns {crawl id, how}: how 0 = started a crawl, 1 = joined a running one, 2 = resumed
# one whose workers all died (their claims back in its frontier); or {"", 0} when none
# runs and this worker may not start one.
_JOIN = _NOW + _REQUEUE + """
local base, worker, timeout, ttl = ARGV[1], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local crawl = redis.call('GET', KEYS[1])
local how = -1
if crawl then
  local k = base .. ':' .. crawl
  if redis.call('HEXISTS', k .. ':info', 'done') == 0 then
    if redis.call('ZCOUNT', k .. ':workers', now - timeout, '+inf') > 0 then
      how = 1
    else
      local requeued = 0
      for _, set in ipairs({':busy', ':workers'}) do
        for _, w in ipairs(redis.call('ZRANGE', k .. set, 0, -1)) do
          requeued = requeued + requeue(k, w, k .. ':requests')
        end
        redis.call('DEL', k .. set)
      end
      redis.call('HINCRBY', k .. ':info', 'requeued', requeued)
      how = 2
    end
  end
end
if how == -1 and ARGV[6] ~= '1' then return {'', 0} end
if how == -1 then
  crawl = ARGV[2]
  how = 0
  redis.call('SET', KEYS[1], crawl, 'EX', ttl)
  redis.call('HSET', base .. ':' .. crawl .. ':info', 'created_at', now, 'reaped', 0,
             'requeued', 0)
end
local k = base .. ':' .. crawl
redis.call('ZADD', k .. ':workers', now, worker)
redis.call('ZADD', k .. ':busy', now, worker)
for _, part in ipairs({':requests', ':seen', ':workers', ':busy', ':info'}) do
  redis.call('EXPIRE', k .. part, ttl)
end
redis.call('EXPIRE', KEYS[1], ttl)
return {crawl, how}
"""

# KEYS: requests, busy, inflight; ARGV: worker, claim id, ttl.
# Pops the best request, marks the worker busy and keeps the request as its claim. A claim
# id already filed answers with its request: redis-py sends the script again when a reply
# is lost, and a second pop under the same id would overwrite (lose) the first request.
_CLAIM = _NOW + """
local held = redis.call('HGET', KEYS[3], ARGV[2])
if held then return held end
local top = redis.call('ZRANGE', KEYS[1], 0, 0)
if #top == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], top[1])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return top[1]
"""

# KEYS: requests, seen, inflight; ARGV: request, score, fingerprint ("" = not filtered),
# claim ("" = none). Queues a request unless its fingerprint was seen, and releases the
# claim it replaces (a retry's, a redirect's), in one step: a worker killed between marking
# a request seen and queuing it would leave a request no worker fetches, since the listing
# page fetched again finds it seen. Returns 1 when queued, 0 for a duplicate.
_PUSH = """
local queued = 0
if ARGV[3] == '' or redis.call('SADD', KEYS[2], ARGV[3]) == 1 then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), ARGV[1])
  queued = 1
end
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[3], ARGV[4]) end
return queued
"""

# KEYS: current, requests, seen, workers, busy, info, inflight; ARGV: worker, ttl
# Returns 1, or 0 when the worker had been reaped as dead (it is back, and busy; its claims
# were put back in the frontier, so some pages may be fetched twice), or -1 when done.
_HEARTBEAT = _NOW + """
if redis.call('HEXISTS', KEYS[6], 'done') == 1 then return -1 end
local member = redis.call('ZSCORE', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[4], now, ARGV[1])
local back = 1
if member == false then
  redis.call('ZADD', KEYS[5], now, ARGV[1])
  back = 0
else
  redis.call('ZADD', KEYS[5], 'XX', now, ARGV[1])
end
for i = 1, 7 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return back
"""

# KEYS: current, requests, seen, workers, busy, info, inflight
# ARGV: worker, timeout, crawl id, done ttl, crawl key prefix, unsure (1: a Redis call of
# this worker failed since its last idle, so a claim left may not be done: queue it again)
# Returns {state, reaped workers, requeued requests, of them this worker's own}: state
# 0 = work remains, 1 = done now (the caller finalizes), 2 = done earlier (by another worker).
_IDLE = _NOW + _REQUEUE + """
local worker, limit, prefix = ARGV[1], now - tonumber(ARGV[2]), ARGV[5]
redis.call('ZREM', KEYS[5], worker)
if redis.call('HEXISTS', KEYS[6], 'done') == 1 then
  redis.call('DEL', KEYS[7])
  return {2, 0, 0, 0}
end
local own = 0
if ARGV[6] == '1' then
  own = requeue(prefix, worker, KEYS[2])
else
  redis.call('DEL', KEYS[7])
end
redis.call('ZADD', KEYS[4], now, worker)
local requeued = own
local dead = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. limit)
for _, w in ipairs(dead) do
  redis.call('ZREM', KEYS[5], w)
  requeued = requeued + requeue(prefix, w, KEYS[2])
end
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. limit)
for _, w in ipairs(gone) do
  redis.call('ZREM', KEYS[4], w)
  requeued = requeued + requeue(prefix, w, KEYS[2])
end
if #dead > 0 then redis.call('HINCRBY', KEYS[6], 'reaped', #dead) end
if requeued > 0 then redis.call('HINCRBY', KEYS[6], 'requeued', requeued) end
if redis.call('ZCARD', KEYS[2]) == 0 and redis.call('ZCARD', KEYS[5]) == 0 then
  redis.call('HSET', KEYS[6], 'done', now, 'finalizer', worker)
  if redis.call('GET', KEYS[1]) == ARGV[3] then redis.call('DEL', KEYS[1]) end
  for i = 2, 6 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
  return {1, #dead, requeued, own}
end
return {0, #dead, requeued, own}
"""

# KEYS: current, requests, seen, workers, busy, info, inflight; ARGV: worker, prefix
# A worker stopping before the crawl is done puts its claims back; returns how many.
_LEAVE = _REQUEUE + """
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('HEXISTS', KEYS[6], 'done') == 1 then
  redis.call('DEL', KEYS[7])
  return 0
end
local n = requeue(ARGV[2], ARGV[1], KEYS[2])
if n > 0 then redis.call('HINCRBY', KEYS[6], 'requeued', n) end
return n
"""

IDLE_WORK_REMAINS, IDLE_DONE_HERE, IDLE_DONE_EARLIER = 0, 1, 2


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def new_crawl_id() -> str:
    from harvester.context import new_run_id

    return new_run_id()


@dataclass(frozen=True)
class CrawlInfo:
    """What the workers of a crawl agreed on, and how it went (the crawl's `info` hash)."""

    mode: str = ""
    campaign: str = ""
    listing_exhausted: bool = False
    walk: str = ""  # the incremental walk the crawl does (incremental mode)
    walk_ended: bool = False  # the walk reached documents harvested before it
    listing_error: str = ""  # a worker could not read a listing page: the walk stopped
    limited: bool = False
    reaped: int = 0  # workers found dead
    requeued: int = 0  # claimed requests put back into the frontier (dead or stopped workers)
    done: bool = False
    finalizer: str = ""
    # branches of the walk (harvester.source.FanOut) that no worker saw stop yet; the walk
    # before any split is the branch ""
    open_branches: tuple[str, ...] = ("",)

    @classmethod
    def from_hash(cls, raw: dict[Any, Any]) -> CrawlInfo:
        h = {_text(k): _text(v) for k, v in raw.items()}
        planned = {k[len(_PLANNED):] for k in h if k.startswith(_PLANNED)} | {""}
        stopped = {k[len(_STOPPED):] for k in h if k.startswith(_STOPPED)}
        return cls(mode=h.get("mode", ""), campaign=h.get("campaign", ""),
                   listing_exhausted=h.get("listing_exhausted") == "1",
                   walk=h.get("walk", ""), walk_ended=h.get("walk_ended") == "1",
                   listing_error=h.get("listing_error", ""),
                   limited=h.get("limited") == "1", reaped=int(h.get("reaped") or 0),
                   requeued=int(h.get("requeued") or 0),
                   done="done" in h, finalizer=h.get("finalizer", ""),
                   open_branches=tuple(sorted(planned - stopped)))


# fields of the crawl's info hash: a branch of the walk planned (a listing page split the
# walk there) and a branch stopped (a listing page of it asked for no next page, or failed)
_PLANNED, _STOPPED = "branch_planned:", "branch_stopped:"


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class CrawlCoordinator:
    """Plain values in, so a test builds one on a bare Redis client without a crawler."""

    _ATTR = "_harvester_crawl_coordinator"

    def __init__(self, server: Any, keys: CrawlKeys, *, worker_id: str | None = None,
                 worker_timeout: float = 60.0, key_ttl: int = 7 * 86400,
                 done_ttl: int = 3600, join_only: bool = False) -> None:
        self.server = server
        self.keys = keys
        self.worker_id = worker_id or new_worker_id()
        self.worker_timeout = worker_timeout
        self.key_ttl = int(key_ttl)
        self.done_ttl = int(done_ttl)
        self.join_only = join_only  # never start a crawl: only join a running one
        self.joined_existing = False
        self.finalizer = False  # this worker saw the crawl done first
        self._claims = itertools.count(1)
        self._children: dict[str, int] = {}  # listing claim -> follow-ups queued so far
        self._expected: dict[str, int] = {}  # listing claim -> follow-ups it produced
        # a claim or push failed since the last idle (Redis unreachable, a reply lost): the
        # claims still held then may not be done, and idle queues them again
        self.unsure = False
        self._join = server.register_script(_JOIN)
        self._claim = server.register_script(_CLAIM)
        self._push = server.register_script(_PUSH)
        self._heartbeat = server.register_script(_HEARTBEAT)
        self._idle = server.register_script(_IDLE)
        self._leave = server.register_script(_LEAVE)

    @classmethod
    def of(cls, crawler: Any) -> CrawlCoordinator:
        """The crawler's coordinator (shared by scheduler, extension and spider)."""
        coordinator = getattr(crawler, cls._ATTR, None)
        if coordinator is None:
            coordinator = cls.from_settings(crawler.settings, crawler.spidercls.name)
            setattr(crawler, cls._ATTR, coordinator)
        return coordinator

    @classmethod
    def from_settings(cls, settings: Any, site: str) -> CrawlCoordinator:
        return cls(
            connect(settings.get("HARVESTER_REDIS_URL")),
            CrawlKeys(settings.get("HARVESTER_REDIS_PREFIX") or "harvester", site),
            worker_timeout=setting_float(settings, "HARVESTER_REDIS_WORKER_TIMEOUT"),
            key_ttl=setting_int(settings, "HARVESTER_REDIS_KEY_TTL"),
            done_ttl=setting_int(settings, "HARVESTER_REDIS_DONE_TTL"),
            join_only=setting_bool(settings, "HARVESTER_REDIS_JOIN_ONLY"),
        )

    @property
    def crawl(self) -> str:
        return self.keys.crawl

    def _crawl_keys(self) -> list[str]:
        return [self.keys.current, *self.keys.all(), self.keys.inflight(self.worker_id)]

    # --- membership ---------------------------------------------------------------------
    def join(self, *, may_start: bool = True) -> str:
        """Join the site's running crawl, or start one; the worker starts out busy.
        Returns the crawl id, or "" when none runs and `may_start` is false."""
        crawl, how = self._join(
            keys=[self.keys.current],
            args=[self.keys.base, new_crawl_id(), self.worker_id, self.worker_timeout,
                  self.key_ttl, int(may_start)],
        )
        if not _text(crawl):
            return ""
        self.keys = self.keys.of(_text(crawl))
        self.joined_existing = int(how) != 0
        logger.info("worker %s %s crawl %s", self.worker_id,
                    ("started", "joined", "resumed")[int(how)], self.crawl)
        return self.crawl

    def claim(self) -> tuple[str, bytes] | None:
        """Pop the best request of the frontier as this worker's claim (marks it busy)."""
        claim = str(next(self._claims))
        try:
            data = self._claim(keys=[self.keys.requests, self.keys.busy,
                                     self.keys.inflight(self.worker_id)],
                               args=[self.worker_id, claim, self.key_ttl])
        except Exception:
            self.unsure = True  # the claim may be filed: queued again at idle
            raise
        return (claim, data) if data else None

    def push(self, data: bytes, score: float, fingerprint: str | None = None,
             claim: str | None = None) -> bool:
        """Queue a request (unless `fingerprint` is in the crawl's seen-set) and release
        the claim it replaces, atomically. True when queued, False for a duplicate."""
        try:
            queued = bool(self._push(keys=[self.keys.requests, self.keys.seen,
                                           self.keys.inflight(self.worker_id)],
                                     args=[data, score, fingerprint or "", claim or ""]))
        except Exception:
            self.unsure = True  # the claims this request came from go back at idle
            raise
        if claim:
            self._forget(claim)
        return queued

    def release(self, claim: str | None) -> None:
        """The claim's work is complete (its outcome is in the store or the frontier)."""
        if claim:
            self._forget(claim)
            self.server.hdel(self.keys.inflight(self.worker_id), claim)

    def _forget(self, claim: str) -> None:
        """Drop this worker's follow-up counts of a released claim."""
        self._children.pop(claim, None)
        self._expected.pop(claim, None)

    def follow_up_queued(self, parent: str) -> None:
        """One request a listing page produced reached the frontier (or was a duplicate)."""
        self._children[parent] = self._children.get(parent, 0) + 1
        if self._children[parent] >= self._expected.get(parent, 1 << 62):
            self.release(parent)

    def parsing(self, claim: str | None) -> None:
        """The listing page's callback runs: its claim is held until every request it
        yields is queued and every record that came whole with it is through the pipelines
        (a worker killed meanwhile leaves the page to be fetched again, nothing lost)."""
        if claim:
            self._expected.setdefault(claim, 1 << 62)

    def parsed_here(self, claim: str | None) -> bool:
        """The claim is a listing page whose callback ran in this worker, not yet released."""
        return bool(claim) and claim in self._expected

    def listing_parsed(self, claim: str | None, follow_ups: int) -> None:
        """The listing page's callback is through; release it once its follow-ups are queued
        (the scraper hands them to the scheduler a little later)."""
        if not claim:
            return
        self._expected[claim] = follow_ups
        if self._children.get(claim, 0) >= follow_ups:
            self.release(claim)

    def heartbeat(self) -> int:
        """Refresh this worker's liveness (and the crawl keys' expiry): 1, or 0 when this
        worker had been reaped as dead (it is back now), or -1 when the crawl is done."""
        state = int(self._heartbeat(keys=self._crawl_keys(), args=[self.worker_id,
                                                                  self.key_ttl]))
        if state == 0:
            logger.warning("worker %s was taken for dead (no heartbeat for %ss) and is back",
                           self.worker_id, self.worker_timeout)
        return state

    def idle(self) -> int:
        """This worker has nothing in flight: release its claims, leave busy, reap dead
        workers (their claims go back to the frontier), and tell whether the crawl is done
        (IDLE_DONE_HERE makes this worker the finalizer)."""
        state, reaped, requeued, own = self._idle(
            keys=self._crawl_keys(),
            args=[self.worker_id, self.worker_timeout, self.crawl, self.done_ttl,
                  self.keys.crawl_prefix, int(self.unsure)],
        )
        self._children.clear()
        self._expected.clear()
        self.unsure = False
        if int(own):
            logger.warning("crawl %s: after a Redis error, the %d request(s) this worker still "
                           "held are queued again", self.crawl, int(own))
        if int(reaped) or int(requeued) - int(own):
            logger.warning("crawl %s: %d worker(s) stopped heartbeating; %d request(s) they "
                           "held are queued again", self.crawl, int(reaped),
                           int(requeued) - int(own))
        state = int(state)
        if state == IDLE_DONE_HERE:
            self.finalizer = True
        return state

    def leave(self) -> int:
        """Leave the crawl; claims not yet done go back to the frontier (returns how many)."""
        return int(self._leave(keys=self._crawl_keys(),
                               args=[self.worker_id, self.keys.crawl_prefix]))

    # --- what the workers agree on ------------------------------------------------------
    def info(self) -> CrawlInfo:
        return CrawlInfo.from_hash(self.server.hgetall(self.keys.info))

    def branch_planned(self, branch: str) -> None:
        """A listing page split the walk: `branch` begins (before its first request is
        queued, so the crawl cannot be found walked to its end without it)."""
        self._branch(_PLANNED + branch)

    def branch_stopped(self, branch: str) -> None:
        """A listing page of `branch` asked for no next page (the branch's end, a split, a
        stop) or failed. Recorded again when the page is fetched again: no harm."""
        self._branch(_STOPPED + branch)

    def _branch(self, field: str) -> None:
        try:
            self.server.hset(self.keys.info, field, "1")
        except Exception:
            self.unsure = True  # the page's claim goes back at idle: it is read again
            raise

    def agree(self, **fields: str) -> None:
        self.server.hset(self.keys.info, mapping=fields)

    @contextmanager
    def lock(self, name: str, timeout: float = 120.0) -> Iterator[None]:
        """A crawl-wide lock (for the first worker's decisions, e.g. the harvest mode)."""
        lock = self.server.lock(self.keys.lock(name), timeout=timeout, blocking_timeout=timeout)
        if not lock.acquire():
            raise TimeoutError(f"could not take the crawl lock {name!r} within {timeout}s")
        try:
            yield
        finally:
            lock.release()

    def running_crawl(self) -> str:
        """The id of the site's running crawl (one with a live worker), or ""."""
        crawl = self.server.get(self.keys.current)
        if not crawl:
            return ""
        keys = self.keys.of(_text(crawl))
        now = self.server.time()
        alive = self.server.zcount(keys.workers, now[0] - self.worker_timeout, "+inf")
        return _text(crawl) if alive and not self.server.hexists(keys.info, "done") else ""

    def pending(self) -> int:
        return int(self.server.zcard(self.keys.requests))


def connect(url: str) -> Any:
    """A Redis client for the URL, with scrapy-redis's connection defaults (timeouts)."""
    from scrapy_redis.connection import get_redis

    return get_redis(url=url, socket_timeout=30, socket_connect_timeout=30,
                     retry_on_timeout=True, health_check_interval=30)
