"""The fetch-only baseline: a bare Scrapy spider that fetches what a backfill fetches and
does nothing else.

It walks the same listing pages the harvester asks for (100 a page, newest first), fetches
every document page they link
and every PDF those pages point at (the download link and the .pdf-preview path), with the
same Scrapy settings the harvester uses for politeness-free runs. No extraction beyond
link-following, no storage, no validation, no WARC capture, no run report.

    python bench/fetch_only.py BASE_URL [-s NAME=VALUE ...]

Prints one JSON line: {"documents": n, "files": n, "listing": n, "seconds": s}.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from harvester.sites.wilson.listing import LISTING_PAGE_SIZE, listing_url


class FetchOnlySpider(scrapy.Spider):
    name = "fetch_only"
    custom_settings = {"ROBOTSTXT_OBEY": True}

    def __init__(self, base_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.counts = {"listing": 0, "documents": 0, "files": 0}

    async def start(self) -> Any:
        yield self._listing(0)

    def _listing(self, page: int) -> scrapy.Request:
        return scrapy.Request(listing_url(self.base_url, page), callback=self.parse_listing,
                              priority=-page, cb_kwargs={"page": page})

    def parse_listing(self, response: Response, page: int) -> Iterator[scrapy.Request]:
        self.counts["listing"] += 1
        links = response.xpath("//td[contains(@class, 'document')]"
                               "//a[contains(@href, '/document/')]/@href").getall()
        urls = [u for u in dict.fromkeys(links) if not u.rstrip("/").endswith("/download")]
        for url in urls:
            yield response.follow(url, callback=self.parse_document, priority=100)
        if len(urls) >= LISTING_PAGE_SIZE:  # a full page: the next one may hold more
            yield self._listing(page + 1)

    def parse_document(self, response: Response) -> Iterator[scrapy.Request]:
        self.counts["documents"] += 1
        links = response.xpath("//a[contains(@href, '/download')]/@href"
                               " | //*[contains(@class, 'pdf-preview')]/@data").getall()
        for url in dict.fromkeys(links):
            yield response.follow(url, callback=self.parse_file, priority=200, dont_filter=True)

    def parse_file(self, response: Response) -> None:
        self.counts["files"] += 1


def main(argv: list[str]) -> int:
    base_url, rest = argv[0], argv[1:]
    settings: dict[str, Any] = {
        "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    }
    while rest:
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag != "-s":
            raise SystemExit(f"unknown argument {flag!r}")
        name, _, setting = value.partition("=")
        settings[name] = setting
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(FetchOnlySpider)
    started = time.perf_counter()
    process.crawl(crawler, base_url=base_url)
    process.start()
    seconds = time.perf_counter() - started
    spider: Any = crawler.spider
    print(json.dumps({**spider.counts, "seconds": round(seconds, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
