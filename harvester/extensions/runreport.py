"""RunReport: the run's report in the store (runs/<site>/<run_id>.json) and its exit status.

At start: flushes writes spooled by an earlier run whose store was down, finishes the books
of killed runs, writes a "running" report and keeps its heartbeat fresh. During the run:
counts requests by kind and the field coverage of the records. At the end: writes the
changes feed and the final report, flags fields whose coverage fell sharply against earlier
runs (the site changed its markup), and sets the exit status the CLI returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import threading
from typing import Any

from scrapy import signals
from scrapy.http import Request

from harvester import __version__, exits, withdrawals
from harvester.config import setting_bool, setting_float, setting_int
from harvester.context import RunContext, utc_now
from harvester.exceptions import StoreError
from harvester.items import documents_of
from harvester.keys import record_key
from harvester.record import record_schema
from harvester.runs import (  # noqa: F401 - earlier_finished: kept here for its callers
    Coverage,
    FeedSpill,
    compose_changes,
    coverage_alerts,
    earlier_finished,
    earlier_reports,
    feed_line,
    recover_interrupted,
    write_report,
)

logger = logging.getLogger(__name__)

# Sent once the final report is written (before the store closes), with `report` (the
# report's dict) and `ctx` (the RunContext): what runs after a harvest (an OAI-PMH index,
# metrics) listens to it rather than to spider_closed, whose handlers' order is not set.
report_written = object()

# Exit statuses: harvester/exits.py (defined there once; these names are kept for callers)
EXIT_OK, EXIT_STOPPED, EXIT_SPOOLED = exits.OK, exits.STOPPED, exits.SPOOLED
EXIT_SITE_CHANGED, EXIT_CHALLENGED = exits.SITE_CHANGED, exits.CHALLENGED
EXIT_LISTING_UNREADABLE, EXIT_WITHDRAW_GUARD = exits.LISTING_UNREADABLE, exits.WITHDRAW_GUARD


# The harvester's own stats namespaces: the report's `stats` holds these keys, not Scrapy's
# (downloader/, scheduler/, start_time and its other datetime values).
OWN_STATS_PREFIXES = (
    "challenge/", "dedup/", "documents/", "extract/", "files/", "listing/", "politeness/",
    "quarantine/", "records/", "redis/", "requests/", "retry/", "scope/", "spool/", "store/",
    "validation/", "warc/", "withdraw/",
)


def own_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """The run's stats under the harvester's namespaces, sorted by key, JSON values only."""
    return {key: value for key, value in sorted(stats.items())
            if key.startswith(OWN_STATS_PREFIXES) and _is_json_scalar(value)}


def _is_json_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (int, str))


def redact_uri(uri: str) -> str:
    """A store URI without any user:password part."""
    if "://" in uri and "@" in uri.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri


class RunReport:
    def __init__(self, crawler: Any, ctx: RunContext) -> None:
        self.crawler = crawler
        self.ctx = ctx
        s = crawler.settings
        self.heartbeat_seconds = setting_float(s, "HARVESTER_HEARTBEAT_SECONDS")
        self.stale_seconds = setting_float(s, "HARVESTER_STALE_RUN_SECONDS")
        self.min_records = setting_int(s, "HARVESTER_COVERAGE_MIN_RECORDS")
        self.drop = setting_float(s, "HARVESTER_COVERAGE_DROP")
        # whether flagged fields end the run with exit 4 (an OAI-PMH source's fields are
        # the repository's metadata, not a scraper's reading of markup: reported only)
        self.coverage_exit = setting_bool(s, "HARVESTER_COVERAGE_EXIT")
        self.coverage = Coverage(record_schema(ctx.site).coverage_fields)
        self.changes = FeedSpill()  # the feed's lines, on disk until the feed is written
        self._heartbeat: asyncio.Task[None] | None = None
        self.report: dict[str, Any] = {}
        self._running_written = False  # the "running" report is in the store
        self._running_lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        ext = cls(crawler, RunContext.of(crawler))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.request_reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(ext.record_withdrawn, signal=withdrawals.record_withdrawn)
        return ext

    # --- signals ------------------------------------------------------------------------
    async def spider_opened(self, spider: Any) -> None:
        ctx = self.ctx
        cleanup = getattr(ctx.store.inner, "remove_orphan_temp_files", None)
        if callable(cleanup):  # temp files of writers killed mid-write (local store)
            removed = await ctx.io(cleanup)
            self.crawler.stats.set_value("store/orphan_temp_files_removed", removed)
        flushed, pending = await ctx.io(ctx.store.flush)
        if flushed:
            logger.info("wrote %d objects spooled by an earlier run", flushed)
        self.crawler.stats.set_value("spool/flushed_at_start", flushed)
        try:
            recovered = await ctx.io(recover_interrupted, ctx.store, ctx.state, ctx.site,
                                     ctx.run_id, self.stale_seconds)
        except StoreError as exc:
            logger.warning("could not check for interrupted runs: %s", exc)
            recovered = []
        if recovered:
            logger.info("finished the books of interrupted runs: %s", ", ".join(recovered))
        self.report = {
            "site": ctx.site, "run_id": ctx.run_id, "status": "running",
            "harvester_version": __version__, "store": redact_uri(ctx.store_uri),
            "base_url": getattr(spider, "base_url", None), "started_at": ctx.started_at,
            "heartbeat_at": utc_now(), "pid": _pid(), "host": socket.gethostname(),
        }
        # The "running" report is written before the run's first journal part (so a run
        # recovering others never takes this one's journal for a dead run's), or by the
        # first heartbeat: a run that journals nothing and ends before it writes only its
        # final report (an idle incremental run: one request less).
        ctx.state.before_journal = self._write_running
        self._heartbeat = asyncio.ensure_future(self._beat())

    def _write_running(self) -> None:
        """Blocking, once: the "running" report."""
        with self._running_lock:
            if self._running_written:
                return
            write_report(self.ctx.store, dict(self.report))
            self._running_written = True

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            self.report.update(self._snapshot())
            self.report["heartbeat_at"] = utc_now()
            try:
                await self.ctx.io(write_report, self.ctx.store, dict(self.report))
                self._running_written = True
            except Exception as exc:  # noqa: BLE001 - a missed heartbeat is not fatal
                logger.warning("could not update the run report: %s", exc)

    def item_scraped(self, item: Any, **kwargs: Any) -> None:
        for doc in documents_of(item):  # a document, or a listing page's (PageItem)
            self.coverage.add(doc.record)
            if doc.status in {"new", "changed", "restored"}:
                rid = doc.record["record_id"]
                self.changes.append(feed_line({
                    "record_id": rid, "change": doc.status,
                    "content_sha256": doc.record["content_sha256"],
                    "key": record_key(self.ctx.site, rid), "url": doc.record["url"],
                    "title": doc.record["title"], "run_id": self.ctx.run_id,
                    "harvested_at": doc.record["harvested_at"],
                }))

    def record_withdrawn(self, line: dict[str, Any], **kwargs: Any) -> None:
        self.changes.append(feed_line(line))

    def request_reached(self, request: Request, spider: Any = None) -> None:
        kind = request.meta.get("kind") or ("robots" if request.url.endswith("/robots.txt")
                                            else "other")
        self.crawler.stats.inc_value(f"requests/{kind}")

    async def spider_closed(self, spider: Any, reason: str) -> None:
        ctx = self.ctx
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await ctx.io(self._finish, spider, reason)
        await self.crawler.signals.send_catch_log_async(report_written, report=self.report,
                                                        ctx=ctx)
        ctx.close()
        if ctx.group is not None:  # local store: how many group commits made it durable
            self.crawler.stats.set_value("store/syncs", ctx.group.syncs)

    # --- the final report ---------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        st = self.crawler.stats.get_stats()

        def g(key: str) -> int:
            return int(st.get(key, 0) or 0)

        return {
            "mode": self.ctx.mode,
            "campaign": self.ctx.campaign_id,
            "counts": {
                "new": g("records/new"), "changed": g("records/changed"),
                "unchanged": g("records/unchanged"), "repaired": g("records/repaired"),
                "failed": g("documents/failed"), "quarantined": g("documents/quarantined"),
                "records": self.coverage.records, "known_in_listing": g("listing/known"),
                "files_stored": g("files/stored"), "files_failed": g("files/failed"),
                "withdrawn": g("withdraw/withdrawn"), "restored": g("records/restored"),
            },
            "requests": {
                "total": g("downloader/request_count"), "listing": g("requests/listing"),
                "document": g("requests/document"), "file": g("requests/file"),
                "robots": g("requests/robots"), "retries": g("retry/count"),
                "challenges": g("challenge/seen"),
            },
            "bytes": g("downloader/response_bytes"),
            "politeness": {
                "crawl_delay": st.get("politeness/crawl_delay"),
                "download_delay": self.crawler.settings.getfloat("DOWNLOAD_DELAY"),
                "concurrency_per_host": self.crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                "autothrottle": self.crawler.settings.getbool("AUTOTHROTTLE_ENABLED"),
                "user_agent": self.crawler.settings.get("USER_AGENT"),
            },
            "listing_total": getattr(self.crawler.spider, "listing_total", None),
            # where the listing moved for good (a 301/308), for the sources file; else null
            "listing_moved_to": getattr(self.crawler.spider, "listing_base_url", "") or None,
            "stats": own_stats(st),
        }

    def _finish(self, spider: Any, reason: str) -> None:
        ctx = self.ctx
        store = ctx.store
        store.sync()  # the feed names records: they are durable first
        lines = self.changes
        compose_changes(store, ctx.state, ctx.site, ctx.run_id, spill=lines)
        lines.close()
        ctx.state.drop_changes(ctx.run_id)
        previous: list[dict[str, Any]] = []
        try:  # earlier reports are read only when this run has enough records to compare
            if self.coverage.records >= self.min_records:
                previous = earlier_reports(store, ctx.state, ctx.site, ctx.run_id,
                                           ctx.started_at)
        except StoreError:
            previous = []
        shares = self.coverage.shares()
        alerts = coverage_alerts(shares, self.coverage.records, previous,
                                 min_records=self.min_records, drop=self.drop)
        for alert in alerts:
            if self.coverage_exit:
                logger.error("field %r: coverage %.0f%% against %.0f%% in earlier runs: the "
                             "site's markup may have changed", alert["field"],
                             100 * alert["coverage"], 100 * alert["previous"])
            else:
                logger.warning("field %r: coverage %.0f%% against %.0f%% in earlier runs (the "
                               "records this run stored hold less of it; reported, not an "
                               "exit status: HARVESTER_COVERAGE_EXIT)", alert["field"],
                               100 * alert["coverage"], 100 * alert["previous"])
        pending = store.pending()
        outcome = exits.decide(reason, listing_problem=getattr(spider, "listing_problem",
                                                               lambda: "")(),
                               stop_reason=getattr(spider, "stop_reason", ""),
                               pending=pending, spool_dir=str(store.spool_dir),
                               alerts=[a["field"] for a in alerts] if self.coverage_exit
                               else [])
        status, code, why = outcome.status, outcome.code, outcome.reason
        report = dict(self.report)
        report.update(self._snapshot())
        report.update({
            "status": status, "finish_reason": reason, "finished_at": utc_now(),
            "heartbeat_at": utc_now(), "coverage": shares, "coverage_alerts": alerts,
            "changes": len(lines), "spool": {"spooled": store.spooled, "pending": pending},
            "exit_code": code, "exit_reason": why,
        })
        self.report = report
        write_report(store, report)  # made durable by ctx.close() in spider_closed
        ctx.finish(outcome)
        logger.info("run %s %s: %s", ctx.run_id, status, report["counts"])


def _pid() -> int:
    import os

    return os.getpid()
