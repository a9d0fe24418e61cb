"""`HarvestStats`: Scrapy's in-memory stats collector without its per-access wrapper.

Scrapy 2.19's `StatsCollector` defines `__getattribute__` in Python, to wrap its methods
in a deprecation check of the `spider` argument: every attribute access, `self._stats`
inside `inc_value` included, runs Python code and a failed lookup. A crawl counts a dozen
stats per document; py-spy put that wrapper at 2-3% of a backfill's CPU. This collector
keeps Scrapy's behaviour (same methods, same dump at close) with plain attribute access;
the `spider` arguments Scrapy's own components still pass are accepted and ignored.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class HarvestStats(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
