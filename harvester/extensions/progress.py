"""Progress: one self-updating line on the terminal during a run.

documents done against the listing's total, rate, ETA, failures and quarantined pages.
Quiet when stderr is not a terminal (logs stay clean); HARVESTER_PROGRESS=on|off|auto.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured

from harvester.config import setting


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds < 0 or seconds == float("inf"):
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def progress_line(done: int, total: int | None, elapsed: float, failed: int, quarantined: int,
                  label: str) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    if total:
        eta = (total - done) / rate if rate > 0 else None
        head = f"{done:,}/{total:,} docs ({100 * done / total:.1f}%)"
    else:
        eta = None
        head = f"{done:,} docs"
    return (f"[{label}] {head}  {rate:.2f}/s  ETA {format_eta(eta)}  "
            f"failed {failed}  quarantined {quarantined}")


class Progress:
    def __init__(self, crawler: Any, stream: TextIO, interval: float = 1.0) -> None:
        self.crawler = crawler
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        mode = str(setting(crawler.settings, "HARVESTER_PROGRESS")).lower()
        if mode == "off" or (mode == "auto" and not sys.stderr.isatty()):
            raise NotConfigured
        ext = cls(crawler, sys.stderr)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        spider = self.crawler.spider
        stats = self.crawler.stats
        total = getattr(spider, "listing_total", None)
        if getattr(spider, "mode", "") != "backfill":
            total = None
        done = int(stats.get_value("item_scraped_count", 0) or 0) + \
            int(stats.get_value("documents/failed", 0) or 0) + \
            int(stats.get_value("documents/quarantined", 0) or 0)
        label = f"{spider.name} {getattr(spider, 'mode', '')}".strip()
        return progress_line(done, total, time.monotonic() - self.started,
                             int(stats.get_value("documents/failed", 0) or 0),
                             int(stats.get_value("documents/quarantined", 0) or 0), label)

    async def _loop(self) -> None:
        while True:
            self.stream.write("\r\x1b[2K" + self.line())
            self.stream.flush()
            await asyncio.sleep(self.interval)

    def opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self._task = asyncio.ensure_future(self._loop())

    async def closed(self, spider: Any, reason: str) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.stream.write("\r\x1b[2K" + self.line() + "\n")
        self.stream.flush()
