"""BackoffRetryMiddleware: Scrapy's retries, with waiting.

Scrapy retries at once; a struggling server (429/503) or a flaky network gets hammered.
This subclass waits before each retry: the server's Retry-After when it sends one (seconds
or an HTTP date, capped), else exponential backoff (base * 2**n, +-50% jitter, capped).
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.response import response_status_message

from harvester.config import setting_float


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header (delta-seconds or HTTP-date); None when absent or bad."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with +-50% jitter: base * 2**attempt, capped."""
    raw = min(cap, base * (2 ** max(0, attempt)))
    return raw * (0.5 + (rng or random).random())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = setting_float(settings, "HARVESTER_BACKOFF_BASE")
        self.cap = setting_float(settings, "HARVESTER_BACKOFF_MAX")

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        delay = retry_after_seconds(response.headers.get(b"Retry-After"))
        if delay is not None:
            self.crawler.stats.inc_value("retry/retry_after")
            delay = min(delay, self.cap)
        else:
            delay = backoff_seconds(request.meta.get("retry_times", 0), self.base, self.cap)
        await self._wait(delay)
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry"):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._wait(backoff_seconds(request.meta.get("retry_times", 0), self.base, self.cap))
        return retry

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.crawler.stats.inc_value("retry/backoff_ms", int(seconds * 1000))
            await asyncio.sleep(seconds)
