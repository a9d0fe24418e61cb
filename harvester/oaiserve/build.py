"""Keeping the OAI index (harvester/oaiserve/index.py) up to date, on the harvest's side.

- `update_index(store, site)`: when a run finishes (OaiIndexUpdater, on `report_written`):
  the site's changes feeds not indexed yet (this run's, and any an earlier run missed: a
  killed run's feed composed later, an update that failed) move their records to their new
  datestamps. Reads the feeds, the id buckets and segments it changes; the records only
  when the run did not say what they hold (`known`).
- `build_index(store)`: the whole index from the records and every changes feed (a store
  without an index, `harvester serve oai --rebuild-index`): each record's datestamp is its
  last feed line's time, else its own harvested_at (withdrawn_at for withdrawn records).
"""

from __future__ import annotations

import bisect
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from harvester.context import utc_now
from harvester.export.since import feed_lines, feed_run_ids, parse_time
from harvester.export.source import archive_of, record_ids
from harvester.keys import record_key
from harvester.oaiserve.formats import describe_format
from harvester.oaiserve.index import (
    BUCKETS,
    FEEDS,
    IDS,
    SEGMENTS,
    Entry,
    Manifest,
    SegmentInfo,
    bucket_of,
    counts_of,
    decode_segment,
    digest_key,
    encode_segment,
    load_latest_manifest,
    manifest_generations,
    manifest_key,
    type_slug,
)

log = logging.getLogger(__name__)

ATTEMPTS = 8  # tries when another writer's generation won the race


@dataclass(frozen=True)
class RecordMeta:
    """What the index keeps of a record besides its datestamp and status."""
    type: str
    type_name: str
    prefixes: tuple[str, ...]
    formats: tuple[tuple[str, str, str], ...]  # (prefix, namespace, schema)


def record_meta(record: dict[str, Any]) -> RecordMeta:
    raw = record.get("oai_metadata")
    prefixes, formats = [], []
    if isinstance(raw, dict):
        for prefix, xml in sorted(raw.items()):
            if not (isinstance(prefix, str) and isinstance(xml, str)) or prefix == "oai_dc":
                continue
            described = describe_format(xml)
            if described is None:
                continue  # not XML: not offered
            prefixes.append(prefix)
            formats.append((prefix, *described))
    name = record.get("type") if isinstance(record.get("type"), str) else ""
    return RecordMeta(type_slug(name), str(name or ""), tuple(prefixes), tuple(formats))


def seconds(stamp: object) -> str | None:
    """An ISO 8601 time as YYYY-MM-DDThh:mm:ssZ (UTC), None when it is not one."""
    when = parse_time(str(stamp or "").replace("Z", "+00:00"))
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class UpdateResult:
    generation: int
    entries_changed: int
    feeds_indexed: int
    records_read: int
    objects_written: int
    rebuilt: bool = False


# --- the changes feeds ---------------------------------------------------------------------

def latest_lines(store: Any, site: str, run_ids: Iterable[str]
                 ) -> dict[str, tuple[str, bool]]:
    """record_id -> (datestamp, withdrawn) of its latest line in the given runs' feeds."""
    latest: dict[str, tuple[str, str, bool]] = {}
    for run_id in run_ids:
        for line in feed_lines(store, site, run_id):
            stamp = seconds(line.get("harvested_at"))
            if stamp is None:
                continue
            rid = line["record_id"]
            order = (stamp, run_id)
            seen = latest.get(rid)
            if seen is None or order >= (seen[0], seen[1]):
                latest[rid] = (stamp, run_id, line.get("change") == "withdrawn")
    return {rid: (stamp, gone) for rid, (stamp, _, gone) in latest.items()}


def _read_feeds(store: Any, key: str | None) -> set[str]:
    if key is None:
        return set()
    data = store.get(key)
    return set(json.loads(data)) if data is not None else set()


def _read_record(store: Any, site: str, record_id: str) -> dict[str, Any] | None:
    data = store.get(record_key(site, record_id))
    if data is None:
        return None
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


# --- segments -----------------------------------------------------------------------------

class _Writer:
    """The objects a new generation writes (content-addressed: a key is its content)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.written = 0

    def put(self, folder: str, data: bytes, suffix: str) -> str:
        key = digest_key(folder, data, suffix)
        if not self.store.exists(key):
            self.store.put(key, data)
            self.written += 1
        return key

    def segment(self, entries: list[Entry]) -> SegmentInfo:
        key = self.put(SEGMENTS, encode_segment(entries), ".jsonl")
        return SegmentInfo(key, entries[0].key, entries[-1].key, len(entries), counts_of(entries))

    def json(self, folder: str, value: Any) -> str:
        data = json.dumps(value, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode()
        return self.put(folder, data, ".json")


def _chunks(entries: list[Entry], size: int) -> list[list[Entry]]:
    return [entries[i:i + size] for i in range(0, len(entries), size)]


def apply_to_segments(segments: list[SegmentInfo], removed: list[Entry], added: list[Entry],
                      load: Callable[[SegmentInfo], list[Entry]], writer: _Writer,
                      size: int) -> list[SegmentInfo]:
    """The segment list with `removed` taken out and `added` put in, in order. Only the
    segments that change are rewritten; one that grows past twice `size` is split."""
    firsts = [s.first for s in segments]
    touched: dict[int, list[Entry]] = {}

    def where(key: tuple[str, str, str]) -> int:
        return max(bisect.bisect_right(firsts, key) - 1, 0)

    def entries_of(index: int) -> list[Entry]:
        if index not in touched:
            touched[index] = list(load(segments[index])) if index < len(segments) else []
        return touched[index]

    for entry in removed:
        items = entries_of(where(entry.key))
        for pos, item in enumerate(items):
            if item.key == entry.key:
                del items[pos]
                break
    for entry in added:
        entries_of(where(entry.key) if segments else 0).append(entry)
    parts: list[SegmentInfo | list[Entry]] = []  # kept as they are | to be written
    for index in range(max(len(segments), 1 if touched else 0)):
        if index not in touched:
            if index < len(segments):
                parts.append(segments[index])
            continue
        items = sorted(touched[index], key=lambda e: e.key)
        parts.extend(_chunks(items, size) if len(items) > 2 * size else ([items] if items else []))
    merged: list[SegmentInfo | list[Entry]] = []
    for part in parts:  # a segment that shrank joins its neighbour: no trail of tiny segments
        if merged and _mergeable(merged[-1], part, size):
            merged[-1] = _entries(merged[-1], load) + _entries(part, load)
        else:
            merged.append(part)
    return [writer.segment(p) if isinstance(p, list) else p for p in merged]


def _count(part: SegmentInfo | list[Entry]) -> int:
    return len(part) if isinstance(part, list) else part.count


def _entries(part: SegmentInfo | list[Entry], load: Callable[[SegmentInfo], list[Entry]]
             ) -> list[Entry]:
    return part if isinstance(part, list) else list(load(part))


def _mergeable(a: SegmentInfo | list[Entry], b: SegmentInfo | list[Entry], size: int) -> bool:
    """Two neighbours are merged when one of them is rewritten anyway, one is under half
    full, and together they fit in one segment."""
    return ((isinstance(a, list) or isinstance(b, list)) and _count(a) + _count(b) <= size
            and min(_count(a), _count(b)) < size // 2)


# --- a new generation ---------------------------------------------------------------------

def _commit(store: Any, old: Manifest | None, new: Manifest) -> bool:
    """Write `new` create-only; on success drop what no live generation names."""
    data = json.dumps(new.to_json(), ensure_ascii=False, sort_keys=True).encode()
    if not store.put(manifest_key(new.generation), data, if_absent=True):
        return False
    live = new.referenced()
    for key in (old.retired if old else []):
        if key not in live:
            store.delete(key)
    for generation in manifest_generations(store):
        if generation < new.generation - 1:
            store.delete(manifest_key(generation))
    return True


def _names(metas: Iterable[tuple[str, RecordMeta]], manifest: Manifest) -> None:
    for site, meta in metas:
        manifest.set_names.setdefault(site, archive_of(site)[0])
        if meta.type and meta.type_name:
            manifest.set_names.setdefault(f"{site}:{meta.type}", meta.type_name)
        for prefix, namespace, schema in meta.formats:
            manifest.formats.setdefault(prefix, {"namespace": namespace, "schema": schema})


def update_index(store: Any, site: str, *, known: dict[str, RecordMeta] | None = None,
                 segment_size: int = 1000, threads: int = 16) -> UpdateResult | None:
    """Index the site's changes feeds not indexed yet; builds the whole index when the store
    has none. None when there was nothing to index."""
    known = known or {}
    for _ in range(ATTEMPTS):
        old = load_latest_manifest(store)
        if old is None:
            return build_index(store, segment_size=segment_size, threads=threads,
                               known={site: known})
        indexed = _read_feeds(store, old.feeds.get(site))
        pending = [r for r in feed_run_ids(store, site) if r not in indexed]
        if not pending:
            return None
        lines = latest_lines(store, site, pending)
        writer = _Writer(store)
        site_buckets = dict(old.buckets.get(site, {}))
        loaded: dict[str, dict[str, Any]] = {}
        for b in {bucket_of(rid) for rid in lines}:
            data = store.get(site_buckets[b]) if b in site_buckets else None
            loaded[b] = json.loads(data) if data is not None else {}
        removed: list[Entry] = []
        todo: list[tuple[str, str, bool, Entry | None]] = []
        for rid, (stamp, gone) in sorted(lines.items()):
            value = loaded[bucket_of(rid)].get(rid)
            previous = Entry.from_json(value) if value is not None else None
            if previous is not None and previous.datestamp > stamp:
                continue  # a later change is indexed already (a late feed of an older run)
            todo.append((rid, stamp, gone, previous))
        need = [rid for rid, _, gone, prev in todo
                if rid not in known and not (gone and prev is not None)]
        with ThreadPoolExecutor(max(1, threads)) as pool:
            read = dict(zip(need, pool.map(lambda r: _read_record(store, site, r), need),
                            strict=True))
        added: list[Entry] = []
        metas: list[tuple[str, RecordMeta]] = []
        for rid, stamp, gone, previous in todo:
            if rid in known:
                meta = known[rid]
            elif rid in read:
                record = read[rid]
                if record is None:
                    continue  # named by a feed, not in the store
                meta = record_meta(record)
            else:
                assert previous is not None
                meta = RecordMeta(previous.type, "", previous.prefixes, ())
            entry = Entry(stamp, site, rid, gone, meta.type, meta.prefixes)
            if previous is not None:
                if previous == entry:
                    continue
                removed.append(previous)
            added.append(entry)
            metas.append((site, meta))
            loaded[bucket_of(rid)][rid] = entry.to_json()

        if not added:
            # an idle run (or one whose lines change nothing indexed): no new generation, the
            # store is left as it was; its feed is recorded with the next run that changes
            # something (until then an update reads it again: an empty feed is one GET)
            return None

        def load(info: SegmentInfo) -> list[Entry]:
            data = store.get(info.key)
            return decode_segment(data) if data is not None else []

        segments = apply_to_segments(old.segments, removed, added, load, writer, segment_size)
        for b, bucket in loaded.items():
            site_buckets[b] = writer.json(IDS, bucket)
        new = Manifest(lineage=old.lineage, generation=old.generation + 1, updated_at=utc_now(),
                       segments=segments, buckets={**old.buckets, site: site_buckets},
                       feeds={**old.feeds, site: writer.json(FEEDS, sorted(indexed | set(pending)))},
                       set_names=dict(old.set_names), formats=dict(old.formats))
        _names(metas, new)
        new.retired = sorted(old.referenced() - new.referenced())
        if _commit(store, old, new):
            return UpdateResult(new.generation, len(added), len(pending), len(read),
                                writer.written + 1)
        log.info("OAI index: generation %d was written meanwhile; updating again",
                 new.generation)
    raise RuntimeError(f"OAI index: gave up after {ATTEMPTS} tries (other writers kept winning)")


def build_index(store: Any, *, segment_size: int = 1000, threads: int = 16,
                known: dict[str, dict[str, RecordMeta]] | None = None) -> UpdateResult:
    """The whole index from the store's records and changes feeds, as a new lineage.
    `known`: site -> record id -> what a run just stored holds (those records are not read
    again: the first run into a store indexes what it stored without reading it back)."""
    from harvester.commands.status import sites_in

    known = known or {}
    for _ in range(ATTEMPTS):
        old = load_latest_manifest(store)
        writer = _Writer(store)
        entries: list[Entry] = []
        metas: list[tuple[str, RecordMeta]] = []
        buckets: dict[str, dict[str, str]] = {}
        feeds: dict[str, str] = {}
        read = 0
        for site in sites_in(store):
            runs = list(feed_run_ids(store, site))
            lines = latest_lines(store, site, runs)
            mine = known.get(site, {})
            ids = list(record_ids(store, site))
            unknown = [rid for rid in ids if not (rid in mine and rid in lines)]
            with ThreadPoolExecutor(max(1, threads)) as pool:
                records = dict(zip(unknown, pool.map(_read_record, repeat(store), repeat(site),
                                                     unknown), strict=True))
                read += len(unknown)
                site_buckets: dict[str, dict[str, Any]] = {}
                for rid in ids:
                    stamp: str | None
                    if rid not in records:  # stored by this run: its feed line says when
                        stamp, gone = lines[rid]
                        meta = mine[rid]
                    else:
                        record = records.pop(rid)
                        if record is None:
                            continue
                        gone = record.get("status") == "withdrawn"
                        stamp = lines[rid][0] if rid in lines else seconds(
                            record.get("withdrawn_at") if gone else record.get("harvested_at"))
                        if stamp is None:
                            continue
                        meta = record_meta(record)
                    entry = Entry(stamp, site, rid, gone, meta.type, meta.prefixes)
                    entries.append(entry)
                    metas.append((site, meta))
                    site_buckets.setdefault(bucket_of(rid), {})[rid] = entry.to_json()
            buckets[site] = {b: writer.json(IDS, v) for b, v in sorted(site_buckets.items())}
            feeds[site] = writer.json(FEEDS, runs)
        entries.sort(key=lambda e: e.key)
        generation = max(manifest_generations(store), default=0) + 1
        new = Manifest(lineage=uuid.uuid4().hex, generation=generation,
                       updated_at=utc_now(),
                       segments=[writer.segment(part) for part in _chunks(entries, segment_size)],
                       buckets=buckets, feeds=feeds)
        _names(metas, new)
        new.retired = sorted(old.referenced() - new.referenced()) if old else []
        if _commit(store, old, new):
            log.info("OAI index built: %d records, %d segments, generation %d", len(entries),
                     len(new.segments), new.generation)
            return UpdateResult(new.generation, len(entries), sum(1 for _ in feeds), read,
                                writer.written + 1, rebuilt=True)
    raise RuntimeError(f"OAI index: gave up after {ATTEMPTS} tries (other writers kept winning)")


__all__ = ["BUCKETS", "RecordMeta", "UpdateResult", "build_index", "record_meta", "update_index"]
