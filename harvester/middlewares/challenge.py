"""ChallengeMiddleware: the bot manager's interstitial challenge page is an HTTP 200 that is
not a document. It is never passed on as content: the request is retried after a pause
(doubling each time); when challenges keep coming the run stops cleanly with a clear reason
instead of hammering the site."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from harvester.exits import CHALLENGE_CLOSE

logger = logging.getLogger(__name__)

CLOSE_REASON = CHALLENGE_CLOSE  # harvester/exits.py: exit status 5


class ChallengeMiddleware:
    def __init__(self, crawler: Any, pause: float, retries: int, limit: int) -> None:
        self.crawler = crawler
        self.pause = pause
        self.retries = retries
        self.limit = limit
        self.consecutive = 0
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        s = crawler.settings
        return cls(crawler, s.getfloat("HARVESTER_CHALLENGE_PAUSE"),
                   s.getint("HARVESTER_CHALLENGE_RETRIES"), s.getint("HARVESTER_CHALLENGE_LIMIT"))

    def _is_challenge(self, response: Response) -> bool:
        site = getattr(self.crawler.spider, "site", None)
        if site is None or response.status != 200 or len(response.body) > 256 * 1024:
            return False
        return bool(site.is_challenge(response.body))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if not self._is_challenge(response):
            if response.status == 200:
                self.consecutive = 0
            return response
        stats = self.crawler.stats
        stats.inc_value("challenge/seen")
        self.consecutive += 1
        if self.consecutive >= self.limit:
            stats.set_value("challenge/persisted", 1)
            logger.error("the site answered %d challenge pages in a row: stopping the run",
                         self.consecutive)
            if not self.closing:
                self.closing = True
                # not awaited: closing waits for the downloader, which waits for this response
                asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=CLOSE_REASON))
            raise IgnoreRequest("challenge page (run stopping)")
        tries = int(request.meta.get("challenge_retries", 0))
        if tries >= self.retries:
            stats.inc_value("challenge/gave_up")
            return response  # the spider records the URL as failed; the next run retries it
        delay = min(self.pause * (2 ** (self.consecutive - 1)), 600.0)
        logger.warning("challenge page for %s: pausing %.1fs before retrying", request.url, delay)
        await asyncio.sleep(delay)
        stats.inc_value("challenge/retried")
        retry = request.replace(dont_filter=True)
        retry.meta["challenge_retries"] = tries + 1
        return retry
