"""HarvestStats behaves as Scrapy's MemoryStatsCollector (it only drops a per-access wrapper)."""

from __future__ import annotations

import logging

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from harvester.stats import HarvestStats


@pytest.mark.parametrize("cls", [MemoryStatsCollector, HarvestStats])
def test_same_results_as_scrapys_collector(cls, caplog) -> None:
    crawler = get_crawler(settings_dict={"STATS_DUMP": True})
    stats = cls(crawler)
    stats.open_spider()
    stats.inc_value("records/new")
    stats.inc_value("records/new", 2)
    stats.inc_value("bytes", 10, start=5)
    stats.max_value("peak", 3)
    stats.max_value("peak", 1)
    stats.min_value("low", 3)
    stats.min_value("low", 1)
    stats.set_value("mode", "backfill")
    assert stats.get_stats() == {"records/new": 3, "bytes": 15, "peak": 3, "low": 1,
                                 "mode": "backfill"}
    assert stats.get_value("missing", 0) == 0
    with caplog.at_level(logging.INFO):
        stats.close_spider(reason="finished")
    assert "'records/new': 3" in caplog.text
    stats.clear_stats()
    assert stats.get_stats() == {}

