"""ScopeMiddleware: the crawl never leaves the configured host.

Requests to other hosts are dropped (Scrapy's offsite middleware does that too); a redirect
to another host is refused here, before the redirect middleware sees it, and counted. The
one exception: a file request (meta kind "file") to a host the source names for its files
(`file_hosts` of an OAI-PMH source: a CDN, a bitstream host; "*": any), and its redirects."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


def same_host(url: str, allowed: set[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in allowed


class ScopeMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        return cls(crawler)

    def _allowed(self) -> set[str]:
        return {d.lower() for d in getattr(self.crawler.spider, "allowed_domains", None) or []}

    def _file_elsewhere(self, request: Request, url: str) -> bool:
        spider = self.crawler.spider
        return request.meta.get("kind") == "file" and hasattr(spider, "file_host_allowed") \
            and bool(spider.file_host_allowed(url))

    def process_request(self, request: Request) -> None:
        allowed = self._allowed()
        if allowed and not same_host(request.url, allowed) \
                and not self._file_elsewhere(request, request.url):
            self.crawler.stats.inc_value("scope/offsite_request")
            raise IgnoreRequest(f"outside the crawl scope: {request.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        if 300 <= response.status < 400 and b"Location" in response.headers:
            location = urljoin(request.url, (response.headers.get(b"Location") or b"").decode("latin-1"))
            allowed = self._allowed()
            if allowed and not same_host(location, allowed) \
                    and not self._file_elsewhere(request, location):
                self.crawler.stats.inc_value("scope/offsite_redirect")
                logger.warning("refused redirect from %s to another host: %s", request.url, location)
                raise IgnoreRequest(f"redirect to another host refused: {location}")
        return response
