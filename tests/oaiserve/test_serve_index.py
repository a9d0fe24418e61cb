"""The OAI index kept in the store: built from records and feeds, updated run by run with
only the segments that change rewritten, objects dropped one generation late, concurrent
updaters, and what the provider reads of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from serve_store import put_run, record

from harvester.oaiserve.build import build_index, update_index
from harvester.oaiserve.index import MANIFESTS, SEGMENTS, IndexReader, Query, load_latest_manifest
from pipelines.storage import open_store


def _run(n: int) -> str:
    return f"2026010{n}T000000Z-abcdef1{n}"


def _stamp(day: int, second: int) -> str:
    return f"2026-01-0{day}T00:00:{second:02d}Z"


def _listed(store: Any, query: Query | None = None) -> list[tuple[str, str, bool]]:
    reader = IndexReader(store, ttl=0)
    manifest = reader.manifest()
    assert manifest is not None
    entries = reader.select(manifest, query or Query("oai_dc"), None, 10_000)
    assert reader.count(manifest, query or Query("oai_dc")) == len(entries)
    return [(e.record_id, e.datestamp, e.deleted) for e in entries]


def test_update_moves_changed_records_and_rewrites_only_touched_segments(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"))
    put_run(store, "wilson", _run(1), [record("wilson", f"r{i:02d}", _stamp(1, i))
                                       for i in range(12)])
    first = build_index(store, segment_size=4)
    m1 = load_latest_manifest(store)
    assert m1 is not None and first.generation == 1 and len(m1.segments) == 3
    # run 2: r01 changed, r05 withdrawn, 10 new records
    changed = [record("wilson", "r01", _stamp(2, 0)),
               record("wilson", "r05", _stamp(2, 1), status="withdrawn")]
    new = [record("wilson", f"n{i:02d}", _stamp(2, 10 + i), type_="Memo") for i in range(10)]
    put_run(store, "wilson", _run(2), changed + new, withdrawn=("r05",))
    result = update_index(store, "wilson", segment_size=4)
    assert result is not None and result.entries_changed == 12 and result.feeds_indexed == 1
    # nothing known from the run: each record read once, but the withdrawn one (its type
    # and formats are those of its indexed entry)
    assert result.records_read == 11
    m2 = load_latest_manifest(store)
    assert m2 is not None and m2.generation == 2
    listed = _listed(store)
    assert [r for r, _, _ in listed] == [f"r{i:02d}" for i in range(12) if i not in (1, 5)] + \
        ["r01", "r05"] + [f"n{i:02d}" for i in range(10)]
    assert ("r05", _stamp(2, 1), True) in listed and ("r01", _stamp(2, 0), False) in listed
    # the third segment (r08-r11) was not touched: the same object
    assert m2.segments[2].key == m1.segments[2].key
    assert all(s.count <= 8 for s in m2.segments)
    # sets by source and by type, counted without reading whole segments twice
    assert {s for s in m2.sets()} == {"wilson", "wilson:telegram", "wilson:memo"}
    assert m2.set_names["wilson:memo"] == "Memo"
    assert len(_listed(store, Query("oai_dc", "wilson:memo"))) == 10
    assert len(_listed(store, Query("oai_dc", None, _stamp(2, 0), _stamp(2, 12)))) == 5
    # nothing new: no generation
    assert update_index(store, "wilson", segment_size=4) is None


def test_dropped_objects_leave_one_generation_later(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"))
    put_run(store, "wilson", _run(1), [record("wilson", f"r{i}", _stamp(1, i)) for i in range(6)])
    build_index(store, segment_size=4)
    m1 = load_latest_manifest(store)
    assert m1 is not None
    put_run(store, "wilson", _run(2), [record("wilson", "r0", _stamp(2, 0))])
    update_index(store, "wilson", segment_size=4)
    m2 = load_latest_manifest(store)
    assert m2 is not None
    gone = set(m1.referenced()) - set(m2.referenced())
    assert gone and set(m2.retired) == gone
    assert all(store.exists(k) for k in gone)  # a provider holding generation 1 still reads
    put_run(store, "wilson", _run(3), [record("wilson", "r1", _stamp(3, 0))])
    update_index(store, "wilson", segment_size=4)
    m3 = load_latest_manifest(store)
    assert m3 is not None
    assert not any(store.exists(k) for k in gone - m3.referenced())
    assert [k.rsplit("/", 1)[1] for k in store.list(MANIFESTS)] == ["000000000002.json",
                                                                   "000000000003.json"]
    live = m3.referenced() | set(m3.retired)
    assert {k for k in store.list(SEGMENTS)} <= live


def test_a_late_feed_of_an_older_run_does_not_undo_a_newer_change(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"))
    put_run(store, "wilson", _run(5), [record("wilson", "a", _stamp(5, 0))])
    build_index(store)
    # the feed of a run killed earlier is composed later (by the next run's recovery)
    late = record("wilson", "a", _stamp(3, 0))
    store.put("runs/wilson/" + _run(3) + ".changes.jsonl", (json.dumps({
        "record_id": "a", "change": "changed", "content_sha256": "0" * 64,
        "key": "records/wilson/a.json", "url": late["url"], "title": late["title"],
        "run_id": _run(3), "harvested_at": late["harvested_at"]}) + "\n").encode())
    update_index(store, "wilson")
    assert _listed(store) == [("a", _stamp(5, 0), False)]


class RacingStore:
    """A store on which another updater commits a generation just before this one does."""

    def __init__(self, inner: Any, before: Any) -> None:
        self.inner, self.before, self.raced = inner, before, False

    def put(self, key: str, data: bytes, **kwargs: Any) -> bool:
        if key.startswith(MANIFESTS) and not self.raced:
            self.raced = True
            self.before()
        return bool(self.inner.put(key, data, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_two_updaters_at_once_lose_nothing(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"))
    put_run(store, "wilson", _run(1), [record("wilson", "w1", _stamp(1, 1))])
    put_run(store, "gallica", _run(1), [record("gallica", "g1", _stamp(1, 2), type_=None)])
    build_index(store)
    put_run(store, "wilson", _run(2), [record("wilson", "w2", _stamp(2, 1))])
    put_run(store, "gallica", _run(2), [record("gallica", "g2", _stamp(2, 2), type_=None)])
    racing = RacingStore(store, lambda: update_index(store, "gallica"))
    result = update_index(racing, "wilson")
    assert racing.raced and result is not None and result.generation == 3
    assert sorted(r for r, _, _ in _listed(store)) == ["g1", "g2", "w1", "w2"]


def test_ids_with_colons_and_raw_formats(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"))
    put_run(store, "gallica", _run(1), [
        record("gallica", "oai:example.org:1/a", _stamp(1, 1), marc=True, type_=None),
        record("gallica", "oai:example.org:2", _stamp(1, 2), type_=None)])
    build_index(store)
    reader = IndexReader(store)
    manifest = reader.manifest()
    assert manifest is not None
    entry = reader.entry(manifest, "gallica", "oai:example.org:1/a")
    assert entry is not None and entry.prefixes == ("marcxml",)
    assert manifest.prefixes()["marcxml"]["namespace"] == "http://www.loc.gov/MARC21/slim"
    assert manifest.prefixes()["marcxml"]["schema"].endswith("MARC21slim.xsd")
    assert [e.record_id for e in reader.select(manifest, Query("marcxml"), None, 10)] == \
        ["oai:example.org:1/a"]


def test_the_first_run_into_a_store_indexes_what_it_stored_without_reading_it_back(
        tmp_path: Path) -> None:
    from harvester.oaiserve.build import record_meta

    store = open_store(str(tmp_path / "s"))
    older = [record("wilson", f"o{i}", _stamp(1, i)) for i in range(3)]  # before the index
    put_run(store, "wilson", _run(1), older)
    mine = [record("wilson", f"m{i}", _stamp(2, i), type_="Memo") for i in range(5)]
    put_run(store, "wilson", _run(2), mine)
    known = {r["record_id"]: record_meta(r) for r in mine}
    result = update_index(store, "wilson", known=known)
    assert result is not None and result.rebuilt and result.records_read == 3  # the older only
    kept = _listed(store)
    rebuilt = open_store(str(tmp_path / "s"))
    build_index(rebuilt)
    assert _listed(rebuilt) == kept and len(kept) == 8


def test_an_index_of_another_format_is_built_again(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"))
    put_run(store, "wilson", _run(1), [record("wilson", "a", _stamp(1, 1))])
    store.put(MANIFESTS + "000000000007.json", json.dumps({"format": 1}).encode())
    assert load_latest_manifest(store) is None
    result = update_index(store, "wilson")
    assert result is not None and result.rebuilt and result.generation == 8
    assert _listed(store) == [("a", _stamp(1, 1), False)]


def test_an_idle_run_writes_nothing_to_the_index(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"))
    put_run(store, "wilson", _run(1), [record("wilson", "a", _stamp(1, 1))])
    build_index(store)
    before = sorted(store.list("index/"))
    put_run(store, "wilson", _run(2), [])  # an idle run: an empty changes feed
    assert update_index(store, "wilson") is None
    assert sorted(store.list("index/")) == before
    put_run(store, "wilson", _run(3), [record("wilson", "b", _stamp(3, 1))])
    result = update_index(store, "wilson")
    assert result is not None and result.feeds_indexed == 2  # the idle feed recorded too
    assert update_index(store, "wilson") is None


def test_segments_that_shrink_are_merged_with_their_neighbours(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s"))
    ids = [f"r{i:02d}" for i in range(60)]
    put_run(store, "wilson", _run(1), [record("wilson", r, _stamp(1, i)) for i, r in enumerate(ids)])
    build_index(store, segment_size=6)
    m1 = load_latest_manifest(store)
    assert m1 is not None and len(m1.segments) == 10
    moved = [r for i, r in enumerate(ids) if i % 3]  # two of every three records change
    put_run(store, "wilson", _run(2), [record("wilson", r, _stamp(2, i)) for i, r in enumerate(moved)])
    update_index(store, "wilson", segment_size=6)
    m2 = load_latest_manifest(store)
    assert m2 is not None
    assert len(m2.segments) <= 12  # 60 entries in segments of 6 (not 10 of 2 plus 7 of 6)
    assert sum(s.count for s in m2.segments) == 60
    assert [r for r, _, _ in _listed(store)] == [r for i, r in enumerate(ids) if not i % 3] + moved
