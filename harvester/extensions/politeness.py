"""PoliteThrottle: AutoThrottle that also honours robots.txt's Crawl-delay.

Scrapy parses robots.txt but ignores its Crawl-delay. When robots.txt is parsed this
extension reads the delay for our User-Agent, caps it (HARVESTER_CRAWL_DELAY_MAX), and
makes it a floor for that host's download slot: AutoThrottle may slow down further but
never goes below it. With AUTOTHROTTLE_ENABLED off, the floor still applies.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Request, Response

from harvester.config import setting_float

logger = logging.getLogger(__name__)


class PoliteThrottle(AutoThrottle):
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.throttle = crawler.settings.getbool("AUTOTHROTTLE_ENABLED")
        self.crawl_delay_max = setting_float(crawler.settings, "HARVESTER_CRAWL_DELAY_MAX")
        self.floors: dict[str, float] = {}
        if not crawler.settings.getbool("ROBOTSTXT_OBEY") and not self.throttle:
            raise NotConfigured
        if self.throttle:
            super().__init__(crawler)
        else:
            self.debug = False
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self._apply_floor, signal=signals.response_downloaded)

    def _robots_parsed(self, robotparser: Any, request: Request) -> None:
        user_agent = self.crawler.settings.get("ROBOTSTXT_USER_AGENT") or \
            request.headers.get(b"User-Agent") or self.crawler.settings.get("USER_AGENT") or "*"
        try:
            delay = robotparser.crawl_delay(user_agent)
        except Exception:  # noqa: BLE001 - a parser without crawl-delay support
            delay = None
        if not delay:
            return
        delay = min(float(delay), self.crawl_delay_max)
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        self.floors[key] = delay
        # no jitter below the floor: the site asked for at least this much
        downloader.per_slot_settings.setdefault(key, {}).update(delay=delay, jitter=0.0)
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay = max(slot.delay, delay)
            slot.jitter = 0.0
        self.crawler.stats.set_value("politeness/crawl_delay", delay)
        logger.info("robots.txt asks for Crawl-delay %.1fs on %s: honoured", delay, key)

    def _apply_floor(self, response: Response, request: Request, spider: Any = None) -> None:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        floor = self.floors.get(key)
        slot = downloader.slots.get(key)
        if floor is not None and slot is not None:
            slot.jitter = 0.0
            if slot.delay < floor:
                slot.delay = floor
