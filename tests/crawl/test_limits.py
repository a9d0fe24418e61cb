"""Oversized pages and decompression bombs are refused (per-kind size caps), the run goes on."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from crawl_proxies import RewritingProxy
from crawl_support import harvest, latest_report, local_records, local_reports

from harvester.sample import serve_subprocess


def test_oversized_page_and_gzip_bomb_are_refused_and_retried_later(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bomb = gzip.compress(b"<html>" + b" " * (40 * 1024 * 1024), compresslevel=9)
    with serve_subprocess(size=20) as (base_url, control):
        archive = control.archive()
        big_path = f"/document/{archive.slug(3)}"
        bomb_path = f"/document/{archive.slug(7)}"

        def hostile(path: str, body: bytes):
            if path == big_path:
                return body + b"<!--" + b"x" * (9 * 1024 * 1024) + b"-->"
            if path == bomb_path:
                return bomb, {"Content-Encoding": "gzip"}
            return body

        proxy = RewritingProxy(base_url, hostile)
        try:
            run = harvest(str(store), proxy.url, "-s", "RETRY_TIMES=1")
        finally:
            proxy.close()
        assert run.code == 0, run.stderr[-3000:]
        records = local_records(store)
        assert len(records) == 18
        refused = {archive.expected_record(3)["record_id"], archive.expected_record(7)["record_id"]}
        assert refused.isdisjoint(records)
        report = latest_report(local_reports(store))
        assert report["counts"]["failed"] == 2
        failed = [json.loads(p.read_text()) for p in (store / "state/wilson/failed").glob("*.json")]
        assert sorted(f["url"] for f in failed) == sorted([big_path, bomb_path])
        # served normally again, the next run fetches just those two
        again = harvest(str(store), base_url)
        assert again.code == 0, again.stderr[-3000:]
        assert refused <= set(local_records(store))
