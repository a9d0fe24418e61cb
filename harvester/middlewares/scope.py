"""ScopeMiddleware: the crawl never leaves the configured host.

Requests to other hosts are dropped (Scrapy's offsite middleware does that too); a redirect
to another host is refused here, before the redirect middleware sees it, and counted. The
exceptions: a file request (meta kind "file") to a host the source names for its files
(`file_hosts` of an OAI-PMH source: a CDN, a bitstream host; "*": any), and its redirects;
and, for a source whose `follow_listing_redirects` is true (OAI-PMH: an endpoint that moved
to another host answers with a redirect there), a listing request's redirect to another
host, followed (stat `scope/listing_redirects_followed`): that host joins the crawl's scope
(its robots.txt read and obeyed; the old host's file links redirected there are fetched)."""

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

    def _follows(self, request: Request) -> bool:
        """A listing request of a source that follows its listing's redirects."""
        site = getattr(self.crawler.spider, "site", None)
        return request.meta.get("kind") == "listing" \
            and bool(getattr(site, "follow_listing_redirects", False))

    def process_request(self, request: Request) -> None:
        allowed = self._allowed()
        if allowed and not same_host(request.url, allowed) \
                and not self._file_elsewhere(request, request.url) \
                and not (request.meta.get("scope_followed") and self._follows(request)):
            self.crawler.stats.inc_value("scope/offsite_request")
            raise IgnoreRequest(f"outside the crawl scope: {request.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        if 300 <= response.status < 400 and b"Location" in response.headers:
            location = urljoin(request.url, (response.headers.get(b"Location") or b"").decode("latin-1"))
            allowed = self._allowed()
            if allowed and not same_host(location, allowed) \
                    and not self._file_elsewhere(request, location):
                if self._follows(request):  # the endpoint moved: the redirect is followed
                    self._follow(request, location)
                    return response
                self.crawler.stats.inc_value("scope/offsite_redirect")
                logger.warning("refused redirect from %s to another host: %s", request.url, location)
                raise IgnoreRequest(f"redirect to another host refused: {location}")
        return response

    def _follow(self, request: Request, location: str) -> None:
        # the redirected request is made from this one (RedirectMiddleware copies its meta):
        # let it out of the crawl host, past Scrapy's offsite filter too
        request.meta["scope_followed"] = True
        request.meta["allow_offsite"] = True
        host = (urlsplit(location).hostname or "").lower()
        spider = self.crawler.spider
        logger.warning("the listing at %s redirects to another host, followed: %s (file "
                       "links on that host are fetched with --file-host %s)",
                       request.url, location, host)
        # the crawl's scope grows by that host (its robots.txt read and obeyed, the old
        # host's links redirected there followed; its own later redirects are same-host),
        # Scrapy's offsite filter told so
        spider.allowed_domains = [*spider.allowed_domains, host]
        self._refresh_offsite(spider)
        self.crawler.stats.inc_value("scope/listing_redirects_followed")

    def _refresh_offsite(self, spider: Any) -> None:
        """Scrapy's OffsiteMiddleware reads allowed_domains when the spider opens: asked to
        read them again (its own method; without it, the listing's requests still pass by
        their allow_offsite meta, and the new host's robots.txt is taken as missing)."""
        engine = getattr(self.crawler, "engine", None)
        manager = getattr(getattr(engine, "downloader", None), "middleware", None)
        for middleware in getattr(manager, "middlewares", ()):
            update = getattr(middleware, "_update_host_regex", None)
            if callable(update):
                try:
                    update(spider)
                except Exception:  # noqa: BLE001 - Scrapy's private method changed
                    logger.debug("could not refresh %s", type(middleware).__name__)
