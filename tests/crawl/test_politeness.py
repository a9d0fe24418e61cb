"""robots.txt's Crawl-delay is honoured even when DOWNLOAD_DELAY is 0; robots.txt rules apply."""

from __future__ import annotations

import time
from pathlib import Path

from crawl_support import harvest, latest_report, local_reports

from harvester.sample import serve_subprocess


def test_crawl_delay_from_robots_txt_is_a_floor(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=4, crawl_delay=0.4) as (base_url, control):
        started = time.monotonic()
        run = harvest(str(store), base_url)
        elapsed = time.monotonic() - started
        served = control.stats()["requests"]
    assert run.code == 0, run.stderr[-3000:]
    report = latest_report(local_reports(store))
    assert report["politeness"]["crawl_delay"] == 0.4
    assert report["politeness"]["user_agent"].startswith("archive-harvester/")
    assert report["counts"]["new"] == 4
    # a lower bound only (a loaded machine is slower, never faster): the requests after
    # robots.txt were spaced by at least the crawl delay
    assert elapsed >= (served - 2) * 0.4
