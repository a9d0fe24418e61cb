"""StorePipeline: writes new and changed records, keeps superseded versions, journals the
change for the run's changes feed and marks the document URL as harvested.

Order of writes (crash-safe, idempotent):
1. changes journal line (in a part object under state/<site>/changes/<run_id>/, shared with
   the lines of records written at the same moment: `harvester.journal`), so a run killed
   after step 2 still reports the change (the feed is at-least-once);
2. for a changed record, the previous version to versions/<site>/<id>/<old sha256>.json
   (create-only; for a restored record, its withdrawn version to
   versions/<site>/<id>/<sha256>.withdrawn-<time>.json), then the record to
   records/<site>/<id>.json; a new record is written create-only, so two workers never
   both write it (the loser re-checks);
3. a durability barrier (a local store's group commit: the record, its version and its
   files are on disk before anything says they are);
4. the URL's seen marker (state/<site>/seen/..., or a batch of them in state/<site>/seen-batch/
   written before the walk's cursor moves on and at the end: harvester.seenindex), after
   which the URL is not fetched again;
   for a record classified while the store could not be read, a failed entry instead, so
   the next run compares it with the stored one (an edit is not lost to the create-only
   write the spool replays).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from harvester.context import RunContext
from harvester.items import DocumentItem
from harvester.journal import ChangeJournal
from harvester.keys import record_key, version_key, withdrawn_version_key
from harvester.record import encode_record
from harvester.state import url_identity
from pipelines.base import RunPipeline
from pipelines.dedup import classify, load_record

logger = logging.getLogger(__name__)
JSON = "application/json"


def superseded_key(site: str, record_id: str, previous: dict[str, Any]) -> str:
    """Where a superseded version goes: versions/<site>/<id>/<sha256>.json; a withdrawn one
    (superseded by its restoration, whose hash may be the same) carries its withdrawal time."""
    sha = previous.get("content_sha256", "")
    withdrawn_at = previous.get("withdrawn_at")
    if previous.get("status") == "withdrawn" and isinstance(withdrawn_at, str):
        return withdrawn_version_key(site, record_id, sha, withdrawn_at)
    return version_key(site, record_id, sha)


def journal_linger(setting: Any, ctx: RunContext) -> float:
    """HARVESTER_JOURNAL_LINGER: seconds, or "auto": 25 ms for a local store (a part is a
    file write), 5 s for a remote one (a part is a request: at full speed the lines of 5 s
    share one, several of a polite crawl; written at once when the crawl has nothing more
    in flight, so the end of a crawl does not wait for it, or when the records waiting for
    it crowd Scrapy's scraper slot)."""
    if str(setting).strip().lower() in ("", "auto"):
        return LOCAL_LINGER if ctx.inline else REMOTE_LINGER
    return max(0.0, float(setting))


LOCAL_LINGER, REMOTE_LINGER = 0.025, 5.0
MAX_PART_LINES = 500  # a part is written at once when it holds this many lines (their pages wait)


def crawl_quiet(crawler: Any) -> Callable[[], bool]:
    """Whether the crawl has nothing in flight or scheduled (no download, no start request,
    no scheduled request): then no more journal lines are on their way but those of items
    being processed. Reads Scrapy's engine; False when it cannot tell."""
    def quiet() -> bool:
        engine = getattr(crawler, "engine", None)
        slot = getattr(engine, "_slot", None)
        if engine is None or slot is None or getattr(engine, "_start", None) is not None:
            return False
        return not engine.downloader.active and not slot.scheduler.has_pending_requests()

    return quiet


def crawl_crowded(crawler: Any) -> Callable[[], float]:
    """How full Scrapy's scraper slot is (the responses of items in the pipelines, against
    SCRAPER_SLOT_MAX_ACTIVE_SIZE): at 1.0 the engine fetches nothing more until they are
    through, so the records waiting for a journal part are let go before. 0.0 when it
    cannot tell."""
    def crowded() -> float:
        slot = getattr(getattr(getattr(crawler, "engine", None), "scraper", None), "slot", None)
        size, most = getattr(slot, "active_size", None), getattr(slot, "max_active_size", None)
        if not isinstance(size, int) or not isinstance(most, int) or most <= 0:
            return 0.0
        return size / most

    return crowded


OWN_PIPELINES = frozenset({"pipelines.validate.ValidatePipeline", "pipelines.dedup.DedupPipeline",
                           "pipelines.files.FilesPipeline", "pipelines.store.StorePipeline"})


def only_own_pipelines(settings: Any) -> bool:
    """Whether the run's item pipelines are the harvester's own (none of a user's that could
    change a record after it was encoded)."""
    for key, order in settings.getwithbase("ITEM_PIPELINES").items():
        name = key if isinstance(key, str) else f"{key.__module__}.{key.__qualname__}"
        if order is not None and name not in OWN_PIPELINES:
            return False
    return True


class StorePipeline(RunPipeline):
    def __init__(self, ctx: RunContext, stats: Any, *, linger: float = LOCAL_LINGER,
                 quiet: Callable[[], bool] | None = None,
                 crowded: Callable[[], float] | None = None) -> None:
        super().__init__(ctx, stats)
        self.journal = ChangeJournal(self._write_part, linger=linger, max_lines=MAX_PART_LINES,
                                     quiet=quiet, crowded=crowded)
        # the JSON a listed record was encoded as where its page was parsed is written as it
        # is (DocumentItem.encoded) only when no pipeline but the harvester's own ran on it
        self.trust_encoded = True
        # files are downloaded in this run (HARVESTER_DOWNLOAD_FILES): with them off, a
        # stored file without a key is not missing, so a record met again is not "repaired"
        self.files_wanted = True

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        ctx = RunContext.of(crawler)
        pipeline = cls(ctx, crawler.stats,
                       linger=journal_linger(crawler.settings.get("HARVESTER_JOURNAL_LINGER"),
                                             ctx),
                       quiet=crawl_quiet(crawler), crowded=crawl_crowded(crawler))
        pipeline.crawler = crawler
        pipeline.trust_encoded = only_own_pipelines(crawler.settings)
        pipeline.files_wanted = crawler.settings.getbool("HARVESTER_DOWNLOAD_FILES")
        return pipeline

    async def _write_part(self, lines: list[dict[str, Any]]) -> None:
        await self.ctx.io(self.ctx.state.write_journal_part, self.ctx.run_id, lines)

    async def process_document(self, item: DocumentItem) -> DocumentItem:
        ctx, record = self.ctx, item.record
        line_id = None
        if item.status in {"new", "changed", "restored"}:
            line = self.change_line(record, item.status, record_key(ctx.site,
                                                                    record["record_id"]))
            line_id = await self.journal.append(line)
        if ctx.group is None:  # the store is durable on return: one trip for both
            item.status = await ctx.io(self.write_and_mark, item, line_id)
        else:  # a local store: the page's records together on a store thread, then durable
            item.status = await ctx.io_together(self.write, item, line_id)
            await ctx.durable()
            await ctx.io_together(self.mark_seen, item)
        self.stats.inc_value(f"records/{item.status}")
        if item.status == "restored":
            self.stats.inc_value("withdraw/restored")
        return item

    async def close_spider(self, spider: Any = None) -> None:
        await self.journal.drain()
        await self.ctx.io(self.ctx.state.flush_seen)  # batched markers: in the store now
        batches, calls = self.ctx.io_batches
        if batches:
            self.stats.set_value("store/io_batches", batches)
            self.stats.set_value("store/io_batched_calls", calls)

    def write_and_mark(self, item: DocumentItem, line_id: str | None) -> str:
        status = self.write(item, line_id)
        self.mark_seen(item)
        return status

    def mark_seen(self, item: DocumentItem) -> None:
        """Blocking: the URL is harvested (after its record is durable). A record classified
        while the store could not be read (an edit of a stored document would be kept out
        by the create-only write) is recorded as failed instead: the next run fetches it
        again and classifies it against the store."""
        ctx, record = self.ctx, item.record
        if item.unverified:
            ctx.state.mark_failed(item.listing_url, "the store could not be read to compare "
                                  "the record with the stored one; compared next run",
                                  ctx.run_id)
            self.stats.inc_value("records/unverified")
            return
        campaign, walk = getattr(ctx, "campaign_id", None), getattr(ctx, "walk_id", None)
        ctx.state.mark_seen(item.listing_url, record["record_id"], record["content_sha256"],
                            campaign, walk)
        canonical = record.get("url")
        if canonical and url_identity(canonical) != url_identity(item.listing_url):
            # listed under another path (/node/<nid>, an old URL): its canonical path is
            # marked too, so a listing that links the canonical path later knows it
            ctx.state.mark_seen(canonical, record["record_id"], record["content_sha256"],
                                campaign, walk)
        if item.from_failed:
            ctx.state.clear_failed(item.listing_url)

    def write(self, item: DocumentItem, line_id: str | None) -> str:
        """Blocking: stores the record (and the version it replaces); returns the final
        status. `line_id` is the line journaled for it, if any."""
        ctx, site, record = self.ctx, self.ctx.site, item.record
        rid = record["record_id"]
        key = record_key(site, rid)
        status = item.status
        data = item.encoded if item.encoded is not None and self.trust_encoded \
            else encode_record(record)
        if status == "new" and not ctx.store.put(key, data, content_type=JSON, if_absent=True):
            # another worker stored it first: decide again against what is there now
            stored = load_record(ctx.store, site, rid)
            status = classify(record, stored, self.files_wanted)
            item.previous = stored
            self.stats.inc_value("dedup/race")
            if line_id is not None and status != "new":
                ctx.state.drop_change(ctx.run_id, line_id)  # journaled as new: it was not
                line_id = None
                if status in ("changed", "restored"):
                    line_id = ctx.state.put_change(ctx.run_id, rid,
                                                   self.change_line(record, status, key))
        if status in ("changed", "restored") and item.previous is not None:
            ctx.store.put(superseded_key(site, rid, item.previous), encode_record(item.previous),
                          content_type=JSON, if_absent=True)
            ctx.store.put(key, data, content_type=JSON)
        elif status == "repaired":
            ctx.store.put(key, data, content_type=JSON)
        return status

    def change_line(self, record: dict[str, Any], status: str, key: str) -> dict[str, Any]:
        return {
            "record_id": record["record_id"],
            "change": status,
            "content_sha256": record["content_sha256"],
            "key": key,
            "url": record["url"],
            "title": record["title"],
            "run_id": self.ctx.run_id,
            "harvested_at": record["harvested_at"],
        }
