"""The run's shared context: one per crawler, built from its settings.

Pipelines, extensions and the spider reach the store, the run id and the
state through `RunContext.of(crawler)` instead of each opening its own.
"""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harvester.config import setting, setting_bool, setting_float, setting_int
from harvester.exceptions import StoreError
from harvester.exits import Outcome
from harvester.state import HarvestState
from pipelines.storage import Store, open_store
from pipelines.storage.groupsync import GroupSync
from pipelines.storage.local import LocalStore
from pipelines.storage.spool import SpoolingStore

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from harvester.extractpool import ExtractPool
    from harvester.iobatch import IoBatcher


logger = logging.getLogger(__name__)


def new_run_id(now: datetime | None = None) -> str:
    """`<UTC second>Z-<8 hex>`: the first 3 hex digits are the millisecond, the rest random,
    so ids of runs started in the same second still sort by start (feeds are polled in run
    id order)."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{now.microsecond // 1000:03x}{secrets.token_hex(3)[:5]}"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_spool_dir(store_uri: str) -> Path:
    import hashlib

    digest = hashlib.sha256(store_uri.encode()).hexdigest()[:16]
    return Path.home() / ".cache" / "archive-harvester" / "spool" / digest


@dataclass(frozen=True)
class RunPlanned:
    mode: str = ""  # "" until the spider resolved it
    campaign_id: str | None = None  # the running backfill campaign, if any
    walk_id: str | None = None  # the incremental walk of this run, if any


@dataclass
class RunContext:
    site: str
    store_uri: str
    store: SpoolingStore
    state: HarvestState
    run_id: str
    started_at: str
    executor: ThreadPoolExecutor = field(repr=False)
    # What the run decided, each set once by its owner: the plan by the spider at start
    # (publish_plan), the outcome by the run report at close (finish). Read, never written,
    # by everything else (pipelines tag seen markers with the plan's campaign and walk).
    plan: RunPlanned = field(default_factory=lambda: RunPlanned())
    outcome: Outcome | None = None
    # A local store's I/O runs on the reactor thread (a few short system calls per object,
    # cheaper than handing them to threads, which costs GIL hand-overs) and is made durable
    # by group commit (`group`); S3 calls always go to the thread pool.
    inline: bool = False
    group: GroupSync | None = field(default=None, repr=False)
    # With batch_io (HARVESTER_STORE_BATCH_IO), the records of one moment (a listing page's)
    # are written together on a store thread (`io_together`): a slow create does not hold
    # the reactor thread.
    batch_io: bool = False
    _batcher: IoBatcher | None = field(default=None, repr=False)
    _durable: tuple[Any, Any] | None = field(default=None, repr=False)  # barrier, its future
    # Worker processes for CPU work off the reactor thread: page parsing, WARC records.
    extractor: ExtractPool | None = field(default=None, repr=False)
    # what the run quarantined (a URL or a listed record's identifier): one listed twice
    # (overlapping pages) is one quarantined document in the run's counts
    quarantined: set[str] = field(default_factory=set, repr=False)

    _ATTR = "_harvester_run_context"

    def count_quarantined(self, stats: Any, what: str) -> None:
        """`documents/quarantined` once for each document (URL or identifier) of the run."""
        if what not in self.quarantined:
            self.quarantined.add(what)
            stats.inc_value("documents/quarantined")

    def publish_plan(self, mode: str, campaign_id: str | None, walk_id: str | None) -> None:
        self.plan = RunPlanned(mode, campaign_id, walk_id)

    def finish(self, outcome: Outcome) -> None:
        self.outcome = outcome

    @property
    def mode(self) -> str:
        return self.plan.mode

    @property
    def campaign_id(self) -> str | None:
        return self.plan.campaign_id

    @property
    def walk_id(self) -> str | None:
        return self.plan.walk_id

    @property
    def exit_code(self) -> int:
        return self.outcome.code if self.outcome is not None else 0

    @property
    def exit_reason(self) -> str:
        return self.outcome.reason if self.outcome is not None else ""

    @classmethod
    def of(cls, crawler: Crawler) -> RunContext:
        """The crawler's context, created on first use."""
        ctx = getattr(crawler, cls._ATTR, None)
        if ctx is None:
            ctx = cls.from_settings(crawler.settings, site=crawler.spidercls.name)
            setattr(crawler, cls._ATTR, ctx)
        return ctx

    @classmethod
    def from_settings(cls, settings: Any, site: str) -> RunContext:
        uri = settings.get("HARVESTER_STORE") or "./harvest-data"
        spool_dir = settings.get("HARVESTER_SPOOL_DIR") or ""
        inner: Store
        if uri.startswith("s3://"):
            from pipelines.storage.s3 import RetryPolicy, S3Store

            policy = RetryPolicy(attempts=setting_int(settings, "HARVESTER_S3_RETRY_ATTEMPTS"),
                                 max_seconds=setting_float(settings, "HARVESTER_S3_RETRY_SECONDS"))
            inner = S3Store.from_uri(uri, retry=policy)
        else:
            inner = open_store(uri)
        store = SpoolingStore(inner, Path(spool_dir) if spool_dir else default_spool_dir(uri),
                              cooldown=setting_float(settings, "HARVESTER_SPOOL_COOLDOWN"))
        run_id = settings.get("HARVESTER_RUN_ID") or new_run_id()
        local = inner if isinstance(inner, LocalStore) else None
        inline = local is not None and setting_bool(settings, "HARVESTER_STORE_INLINE")
        group = local.start_group_sync() if local is not None and inline else None
        batch = str(setting(settings, "HARVESTER_SEEN_BATCH")).strip().lower()
        batch_seen = local is None if batch == "auto" else batch in ("on", "true", "1", "yes")
        return cls(
            site=site,
            store_uri=uri,
            store=store,
            state=HarvestState(store, site, batch_seen=batch_seen, run_id=run_id,
                               checkpoint_seconds=None if local is not None else setting_float(
                                   settings, "HARVESTER_CHECKPOINT_SECONDS")),
            run_id=run_id,
            started_at=utc_now(),
            executor=ThreadPoolExecutor(
                max_workers=setting_int(settings, "HARVESTER_STORE_THREADS"),
                thread_name_prefix="store",
            ),
            inline=inline,
            group=group,
            batch_io=setting_bool(settings, "HARVESTER_STORE_BATCH_IO"),
        )

    async def io(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run store I/O: on the context's thread pool, off the reactor thread, or for an
        inline (local) store right here."""
        if self.inline:
            return fn(*args, **kwargs)
        import asyncio
        import functools

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def io_together(self, fn: Any, *args: Any) -> Any:
        """Run a blocking store call like `io`, but for an inline (local) store with group
        commit, on a store thread together with the calls made at the same moment (one
        hand-over for a listing page's records: harvester.iobatch). For writes whose
        callers wait for their durability anyway (a barrier follows)."""
        if not (self.inline and self.group is not None and self.batch_io):
            return await self.io(fn, *args)
        if self._batcher is None:
            from harvester.iobatch import IoBatcher

            self._batcher = IoBatcher(self.executor)
        return await self._batcher.run(fn, *args)

    @property
    def io_batches(self) -> tuple[int, int]:
        """(batches, calls) `io_together` handed to store threads so far."""
        return (0, 0) if self._batcher is None else (self._batcher.batches, self._batcher.calls)

    async def durable(self) -> None:
        """Returns once everything this run stored so far is durable (a barrier of the
        local store's group commit; other stores are durable on return already)."""
        if self.group is not None:
            import asyncio

            barrier = self.group.barrier()
            waiting = self._durable
            if waiting is None or waiting[0] is not barrier:
                # the records of a moment share one barrier: one loop future for all of them
                # (a wrap each cost a callback from the sync thread and a wake-up apiece)
                waiting = self._durable = (barrier, asyncio.wrap_future(barrier))
            await asyncio.shield(waiting[1])

    def extract_pool(self, settings: Any) -> ExtractPool:
        """The run's worker processes (HARVESTER_EXTRACT_WORKERS), started on first use."""
        if self.extractor is None:
            from harvester.extractpool import ExtractPool

            self.extractor = ExtractPool.from_settings(settings)
        return self.extractor

    def close(self) -> None:
        """Blocking, at the end of the run: stop the threads and workers, make every write
        durable."""
        if self.extractor is not None:
            self.extractor.close()
        self.executor.shutdown(wait=True)
        try:  # the markers of the run (batched ones), merged when their objects are many
            self.state.close_seen()
        except StoreError as exc:
            logger.warning("seen markers: %s (merged by a later run)", exc)
        self.store.close()
