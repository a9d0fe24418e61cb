"""Run by capture_support.crawl in a subprocess: crawl the test site with WarcCapture on.

argv: BASE_URL SETTINGS_JSON STATS_OUT
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess

from harvester.context import RunContext

TARGETS = (("/doc/1", "document"), ("/doc/2", "document"), ("/doc/3", "document"),
           ("/files/3.pdf", "file"), ("/list", "listing"))


class CaptureTestSpider(scrapy.Spider):
    name = "capturetest"

    def __init__(self, base_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url

    async def start(self) -> AsyncIterator[Any]:
        for path, kind in TARGETS:
            yield scrapy.Request(self.base_url + path, meta={"kind": kind})

    def parse(self, response: Any) -> Any:
        # the spider sees decoded bodies: HttpCompressionMiddleware ran after the capture
        if response.body.startswith((b"<html", b"%PDF")):
            self.crawler.stats.inc_value("test/decoded")
        yield {"url": response.url, "size": len(response.body)}


def main() -> None:
    base_url, settings_json, out = sys.argv[1:4]
    settings = {
        "EXTENSIONS": {"harvester.capture.extension.WarcCapture": 100},
        "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "WARNING",
        "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 2,
        **json.loads(settings_json),
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(CaptureTestSpider)
    result: dict[str, Any] = {}

    def closed() -> None:
        stats = crawler.stats.get_stats()
        result["stats"] = {k: v for k, v in stats.items() if isinstance(v, int | str | float)}
        result["run_id"] = RunContext.of(crawler).run_id

    process.crawl(crawler, base_url=base_url)
    crawler.signals.connect(closed, signal=signals.engine_stopped)
    process.start()
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
