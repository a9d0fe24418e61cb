"""--redis workers and a listing page they cannot read: the walk stops there for the whole
crawl, and every worker ends with exit status 6 and the reason (not only the one that met
the page), while what was found is stored."""

from __future__ import annotations

from pathlib import Path

from distributed_support import record_ids, start_workers, wait_all

from harvester.sample import serve_subprocess
from harvester.sites.wilson import listing_url


def test_every_worker_exits_6_when_a_listing_page_cannot_be_read(redis_url: str,
                                                                  tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=30) as (base_url, control):
        page1 = "/search?" + listing_url("", 1, 10).split("?", 1)[1]
        control.set_faults({"scripted": {"urls": [page1], "always": True}})
        workers = start_workers(2, store, base_url, redis_url, tmp_path / "logs",
                                "-s", "HARVESTER_LISTING_PAGE_SIZE=10",
                                "-s", "HARVESTER_DOWNLOAD_FILES=False")
        codes = wait_all(workers)
    assert codes == [6, 6], [w.tail() for w in workers]
    for worker in workers:
        last = worker.tail(1)
        assert "listing page 1 holds no document links" in last, last
    assert len(record_ids(store)) == 10  # page 0's documents
