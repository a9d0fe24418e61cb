"""Building the OAI index of a whole store holds a bounded number of records (issue 15: peak
memory flat from 10,000 to 100,000 records): the feeds' lines, the listed records and the
entries go through SpillSort (sorted runs in temporary files). A build that spills gives
the same index, object for object, as one that holds everything; its memory does not grow
with the store."""

from __future__ import annotations

import random
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from serve_store import put_run, record

from harvester import spillsort
from harvester.oaiserve.build import KnownMetas, build_index, record_meta, update_index
from harvester.oaiserve.index import Entry, IndexReader, Query, load_latest_manifest
from harvester.spillsort import SpillSort
from pipelines.storage import open_store


def _stamp(day: int, second: int) -> str:
    return f"2026-01-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"


def _mixed_store(root: Path) -> Any:
    """Two sources, three runs each (changes, withdrawals, a re-dated record), ids that need
    escaping, records older than any feed, types and a raw format."""
    store = open_store(str(root))
    for site, prefix in (("wilson", "r"), ("gallica", "oai:example.org:")):
        put_run(store, site, "20260101T000000Z-aaaaaa01",
                [record(site, f"{prefix}{i:03d}", _stamp(1, i),
                        type_=("Memo" if i % 3 else "Telegram"), marc=i % 7 == 0)
                 for i in range(60)])
        put_run(store, site, "20260102T000000Z-aaaaaa02",
                [record(site, f"{prefix}{i:03d}", _stamp(2, i)) for i in range(0, 60, 5)]
                + [record(site, f"{prefix}{i:03d}", _stamp(2, 100 + i), status="withdrawn")
                   for i in (7, 8, 9)],
                withdrawn=tuple(f"{prefix}{i:03d}" for i in (7, 8, 9)))
        put_run(store, site, "20260103T000000Z-aaaaaa03",
                [record(site, f"{prefix}{i:03d}", _stamp(3, i)) for i in range(60, 75)])
    # records no feed names (stored by a version before feeds): dated by harvested_at
    for i in range(5):
        rec = record("wilson", f"old{i}", _stamp(1, 500 + i), type_=None)
        store.put(f"records/wilson/old{i}.json", __import__("json").dumps(rec).encode())
    return store


def _index_objects(store: Any) -> dict[str, Any]:
    manifest = load_latest_manifest(store)
    assert manifest is not None
    return {"segments": [(s.key, s.first, s.last, s.count, s.counts) for s in manifest.segments],
            "buckets": manifest.buckets, "bucket_counts": manifest.bucket_counts,
            "feeds": manifest.feeds, "set_names": manifest.set_names,
            "formats": manifest.formats}


def _listed(store: Any) -> list[tuple[str, str, str, bool]]:
    reader = IndexReader(store, ttl=0)
    manifest = reader.manifest()
    assert manifest is not None
    return [(e.site, e.record_id, e.datestamp, e.deleted)
            for e in reader.select(manifest, Query("oai_dc"), None, 10_000)]


@pytest.mark.parametrize("limit", [1, 7, 64])
def test_a_build_that_spills_gives_the_same_index_as_one_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    _mixed_store(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    in_memory, spilled = open_store(str(tmp_path / "a")), open_store(str(tmp_path / "b"))
    monkeypatch.setattr(spillsort, "LIMIT", 1_000_000)
    whole = build_index(in_memory, segment_size=16)
    monkeypatch.setattr(spillsort, "LIMIT", limit)
    parts = build_index(spilled, segment_size=16)
    assert _index_objects(spilled) == _index_objects(in_memory)
    assert (parts.entries_changed, parts.records_read, parts.objects_written) == \
        (whole.entries_changed, whole.records_read, whole.objects_written)
    listed = _listed(spilled)
    assert listed == _listed(in_memory)
    # what the index says: every record once, at its latest line; withdrawals as deleted
    assert len(listed) == len({(s, r) for s, r, _, _ in listed}) == 2 * 75 + 5
    assert ("wilson", "r005", _stamp(2, 5), False) in listed  # re-dated by run 2
    assert ("gallica", "oai:example.org:008", _stamp(2, 108), True) in listed
    assert ("wilson", "old3", _stamp(1, 503), False) in listed


def test_the_first_run_into_a_store_spilling_reads_nothing_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spillsort, "LIMIT", 10)
    store = open_store(str(tmp_path / "s"))
    mine = [record("wilson", f"m{i:03d}", _stamp(2, i), type_="Memo") for i in range(120)]
    put_run(store, "wilson", "20260102T000000Z-bbbbbb02", mine)
    result = update_index(store, "wilson", known={r["record_id"]: record_meta(r) for r in mine})
    assert result is not None and result.rebuilt and result.records_read == 0
    assert [r for _, r, _, _ in _listed(store)] == [f"m{i:03d}" for i in range(120)]


RUN = "20260101T000000Z-cccccc01"


def _store_of(root: Path, records: int) -> tuple[Path, KnownMetas]:
    """A store of one run's records and what that run knows of them (as a harvest's first
    run indexes them: nothing read back)."""
    from pipelines.storage.local import LocalStore

    stored = [record("wilson", f"doc-{i:06d}", _stamp(1, i % 80000)) for i in range(records)]
    put_run(LocalStore(root, fsync=False), "wilson", RUN, stored)
    known = KnownMetas(RUN)
    for rec in stored:
        known.add(rec["record_id"], record_meta(rec))
    return root, known


def _traced_peak(store_and_known: tuple[Path, KnownMetas]) -> int:
    root, known = store_and_known
    shutil.rmtree(root / "index", ignore_errors=True)  # a store without one: built whole
    store = open_store(str(root))
    tracemalloc.start()
    try:
        result = update_index(store, "wilson", known=known)
        assert result is not None and result.rebuilt and result.records_read == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_building_the_index_of_many_more_records_takes_no_more_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # both with id buckets of ~2,000 (2 and 8 of them): what grows is what the build holds
    small, large = _store_of(tmp_path / "small", 4000), _store_of(tmp_path / "large", 16000)
    _traced_peak(small)  # first-use allocations (imports, caches) out of it
    monkeypatch.setattr(spillsort, "LIMIT", 1_000_000_000)
    held = _traced_peak(large) - _traced_peak(small)
    monkeypatch.setattr(spillsort, "LIMIT", 500)
    spilled = _traced_peak(large) - _traced_peak(small)
    # everything held, 12,000 more records cost several hundred bytes each; spilled, the
    # peak stays where it was
    assert held > 4_000_000, held  # the measurement sees a build that grows
    assert spilled < held / 5, (spilled, held)


def test_spillsort_reads_back_items_across_and_larger_than_its_read_chunks() -> None:
    # items of every size around spillsort.CHUNK: an item's length, or the item itself,
    # split between two reads of its file, and items larger than a read
    rng = random.Random(11)
    sizes = [0, 1, 5, spillsort.CHUNK - 9, spillsort.CHUNK - 4, spillsort.CHUNK,
             spillsort.CHUNK + 3, 3 * spillsort.CHUNK]
    items = [(rng.randrange(20), "x" * rng.choice(sizes) + str(i), i) for i in range(300)]
    for limit in (1, 7, 64, 1000):
        sorter = SpillSort(limit=limit)
        for item in items:
            sorter.add(item)
        assert list(sorter) == sorted(items)


def test_spillsort_orders_like_sorted_and_keeps_equal_items_in_order() -> None:
    rng = random.Random(5)
    items = [(rng.randrange(50), rng.choice("abc"), i) for i in range(1000)]
    for limit in (1, 3, 100, 5000):
        sorter = SpillSort(limit=limit)
        for item in items:
            sorter.add(item)
        assert list(sorter) == sorted(items)
    entries = [Entry(_stamp(1, i % 5), "s", f"id{i}", False, "", ("x",)) for i in range(40)]
    sorter = SpillSort(limit=6, make=Entry)
    for entry in reversed(entries):
        sorter.add(entry)
    out = list(sorter)
    assert out == sorted(entries) and all(type(e) is Entry for e in out)
    assert list(sorter) == []  # once
