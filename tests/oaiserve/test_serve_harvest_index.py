"""The index the harvest keeps run by run (OaiIndexUpdater on report_written) is the index
a rebuild from the records and changes feeds gives; restorations and missed feeds."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from serve_store import put_run, record
from serve_support import Harvested, Provider

from harvester.oaiserve.build import build_index, update_index
from harvester.oaiserve.index import IndexReader, Query, load_latest_manifest
from pipelines.storage import open_store


def _entries(store: Any) -> list[tuple[str, str, str, bool, str]]:
    reader = IndexReader(store, ttl=0)
    manifest = reader.manifest()
    assert manifest is not None
    return [(e.site, e.record_id, e.datestamp, e.deleted, e.type)
            for e in reader.select(manifest, Query("oai_dc"), None, 100_000)]


def test_the_harvest_kept_index_equals_a_rebuild(harvested: Harvested, served: Provider,
                                                 tmp_path: Path) -> None:
    assert not any("building it" in line for line in served.log)  # the harvest made it
    kept = _entries(open_store(str(harvested.root)))
    manifest = load_latest_manifest(open_store(str(harvested.root)))
    assert manifest is not None and manifest.generation == 2  # one per run
    copy = tmp_path / "copy"
    shutil.copytree(harvested.root / "records", copy / "records")
    shutil.copytree(harvested.root / "runs", copy / "runs")
    rebuilt_store = open_store(str(copy))
    build_index(rebuilt_store)
    assert _entries(rebuilt_store) == kept
    assert len(kept) == len(harvested.records)
    assert sorted(r for _, r, _, deleted, _ in kept if deleted) == sorted(harvested.withdrawn)


def test_a_restored_record_is_a_record_again_and_missed_feeds_are_caught_up(tmp_path: Path
                                                                           ) -> None:
    store = open_store(str(tmp_path / "s"))
    put_run(store, "wilson", "20260101T000000Z-abcdef11",
            [record("wilson", "a", "2026-01-01T00:00:00Z"),
             record("wilson", "b", "2026-01-01T00:00:01Z")])
    build_index(store)
    # two runs finish while the index could not be updated; the next update takes both
    put_run(store, "wilson", "20260102T000000Z-abcdef12",
            [record("wilson", "a", "2026-01-02T00:00:00Z", status="withdrawn")],
            withdrawn=("a",))
    restored = record("wilson", "a", "2026-01-03T00:00:00Z")
    put_run(store, "wilson", "20260103T000000Z-abcdef13", [restored])
    result = update_index(store, "wilson")
    assert result is not None and result.feeds_indexed == 2
    assert _entries(store) == [("wilson", "b", "2026-01-01T00:00:01Z", False, "telegram"),
                               ("wilson", "a", "2026-01-03T00:00:00Z", False, "telegram")]
