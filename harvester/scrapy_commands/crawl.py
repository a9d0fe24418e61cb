"""`scrapy crawl SITE`: Scrapy's own command, ending with the exit status `harvester harvest`
would give (a listing that could not be read, a store outage, a persistent challenge ...),
not 0 whenever the spider started."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from harvester.context import RunContext


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider: scrapy crawl SITE")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        ctx = getattr(crawler, RunContext._ATTR, None)
        if ctx is not None and ctx.exit_code:
            print(f"scrapy crawl: {ctx.exit_reason}", file=sys.stderr)
            self.exitcode = int(ctx.exit_code)
