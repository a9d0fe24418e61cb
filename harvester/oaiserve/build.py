"""Keeping the OAI index (harvester/oaiserve/index.py) up to date, on the harvest's side.

- `update_index(store, site)`: when a run finishes (OaiIndexUpdater, on `report_written`):
  the site's changes feeds not indexed yet (this run's, and any an earlier run missed: a
  killed run's feed composed later, an update that failed) move their records to their new
  datestamps. Reads the feeds, the id buckets and segments it changes (one bucket at a
  time); the records only when the run did not say what they hold (`known`).
- `build_index(store)`: the whole index from the records and every changes feed (a store
  without an index, `harvester serve oai --rebuild-index`): each record's datestamp is its
  last feed line's time, else its own harvested_at (withdrawn_at for withdrawn records).

What they cost: objects are content-addressed, so a PUT of bytes already there is harmless
and none is asked for first (no HEAD); one the previous generation names is not written
again. A source's ids go into a power of two of buckets of ~1,000-4,000 ids (1 for a source
of up to 2,048 records), so a run touches few bucket objects; the retired objects and old
manifests go in one batch delete. Memory: a feed is read line by line (the object's bytes
and one line at a time), the lines kept as interned (datestamp, withdrawn, run) values, one
entry per record; buckets are written one at a time.
"""

from __future__ import annotations

import bisect
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from harvester.context import utc_now
from harvester.export.since import feed_run_ids, parse_time
from harvester.export.source import archive_of
from harvester.keyids import record_id_at
from harvester.keys import (
    changes_key,
    changes_run_id,
    is_plain_id,
    is_site,
    record_key,
    top_prefix,
)
from harvester.oaiserve.formats import describe_format
from harvester.oaiserve.index import (
    BUCKETS,
    FEEDS,
    IDS,
    SEGMENTS,
    Entry,
    Manifest,
    SegmentInfo,
    bucket_name,
    bucket_of,
    counts_of,
    decode_segment,
    digest_key,
    encode_segment,
    id_hash,
    latest_and_generations,
    manifest_key,
    type_slug,
)
from harvester.spillsort import SpillSort
from pipelines.storage.base import list_any_order, open_read

log = logging.getLogger(__name__)

ATTEMPTS = 8  # tries when another writer's generation won the race
IDS_PER_BUCKET = 2048  # a source's buckets hold 1/2 to 2x this many ids on average
READ_CHUNK = 1000  # records read back (threads) and held at once
STAMPS_KEPT = 1024  # distinct harvested_at values whose datestamps a feed's reading keeps


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
    runs: dict[str, list[str]] = field(default_factory=dict, repr=False)  # site -> runs indexed


class KnownMetas:
    """What the records a run stored hold for the index, without a map of every record:
    the value most of them share once (the first one met) and the records that differ by
    id. Which records the run stored is what its own changes feed says: its new, changed
    and restored lines (`run_id`)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.default: RecordMeta | None = None
        self.others: dict[str, RecordMeta] = {}
        self.count = 0
        self._shared: dict[RecordMeta, RecordMeta] = {}  # one object per distinct value

    def add(self, record_id: str, meta: RecordMeta) -> None:
        self.count += 1
        if self.default is None:
            self.default = meta
        if meta == self.default:
            self.others.pop(record_id, None)
        else:
            self.others[record_id] = self._shared.setdefault(meta, meta)

    def __len__(self) -> int:
        return self.count


Known = Mapping[str, RecordMeta] | KnownMetas


def _known_meta(known: Known | None, record_id: str, line: tuple[str, bool, str]
                ) -> RecordMeta | None:
    """What the run said record `record_id` holds, its latest feed line being `line`; None
    when it did not say (the record is read)."""
    if known is None:
        return None
    if isinstance(known, KnownMetas):
        _, gone, run_id = line
        if gone or run_id != known.run_id:
            return None
        return known.others.get(record_id, known.default)
    return known.get(record_id)


# --- the changes feeds ---------------------------------------------------------------------

def iter_feed(store: Any, site: str, run_id: str, stamps: dict[str, str | None] | None = None
              ) -> Iterator[tuple[str, str | None, bool]]:
    """(record id, datestamp or None, withdrawn) of each line of a run's feed, read one
    line at a time (no list of the lines). `stamps`: the datestamps of the times met so far
    (a backfill's records share a few thousand seconds: one string each)."""
    stamps = {} if stamps is None else stamps
    stream = open_read(store, changes_key(site, run_id))  # a local feed: read as it goes
    if stream is None:
        return
    with stream:
        for raw in stream:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and isinstance(line.get("record_id"), str):
                when = str(line.get("harvested_at") or "")
                stamp = stamps.get(when, "")
                if stamp == "":
                    if len(stamps) >= STAMPS_KEPT:
                        stamps.clear()  # times all different: a cache would grow per line
                    stamp = stamps[when] = seconds(when)
                yield line["record_id"], stamp, line.get("change") == "withdrawn"


def latest_lines(store: Any, site: str, run_ids: Iterable[str]
                 ) -> dict[str, tuple[str, bool, str]]:
    """record_id -> (datestamp, withdrawn, run id) of its latest line in the given runs'
    feeds (the later run wins a tie). The values are shared: one per distinct triple."""
    latest: dict[str, tuple[str, bool, str]] = {}
    shared: dict[tuple[str, bool, str], tuple[str, bool, str]] = {}
    stamps: dict[str, str | None] = {}
    for run_id in sorted(run_ids):  # run ids sort by start: ties go to the later run
        for rid, stamp, gone in iter_feed(store, site, run_id, stamps):
            if stamp is None:
                continue
            seen = latest.get(rid)
            if seen is None or stamp >= seen[0]:
                value = (stamp, gone, run_id)
                latest[rid] = shared.setdefault(value, value)
    return latest


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


def _read_metas(pool: ThreadPoolExecutor, store: Any, site: str, ids: list[str]
                ) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(id, record or None) of each id, read on the pool READ_CHUNK at a time."""
    for start in range(0, len(ids), READ_CHUNK):
        chunk = ids[start:start + READ_CHUNK]
        yield from zip(chunk, pool.map(lambda r: _read_record(store, site, r), chunk),
                       strict=True)


# --- segments -----------------------------------------------------------------------------

class _Writer:
    """The objects a new generation writes (content-addressed: a key is its content). An
    object the previous generation names is in the store (nothing deletes it before a
    newer generation than this one's parent commits, and then this one's commit fails), so
    it is not written again; any other is written without asking first (the same bytes
    under the same key: writing it twice is harmless)."""

    def __init__(self, store: Any, existing: Iterable[str] = ()) -> None:
        self.store = store
        self.existing = set(existing)
        self.written = 0

    def put(self, folder: str, data: bytes, suffix: str) -> str:
        key = digest_key(folder, data, suffix)
        if key not in self.existing:
            self.store.put(key, data)
            self.existing.add(key)
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

    gone: dict[int, set[tuple[str, str, str]]] = {}
    for entry in removed:
        at = where(entry.key)
        entries_of(at)
        gone.setdefault(at, set()).add(entry.key)
    for at, keys in gone.items():
        touched[at] = [item for item in touched[at] if item.key not in keys]
    for entry in added:
        entries_of(where(entry.key) if segments else 0).append(entry)
    parts: list[SegmentInfo | list[Entry]] = []  # kept as they are | to be written
    for index in range(max(len(segments), 1 if touched else 0)):
        if index not in touched:
            if index < len(segments):
                parts.append(segments[index])
            continue
        items = sorted(touched.pop(index), key=lambda e: e.key)
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


# --- id buckets ---------------------------------------------------------------------------

def bucket_count_for(records: int) -> int:
    """A source's id buckets for `records` records: the least power of two that keeps
    them at IDS_PER_BUCKET or under on average."""
    count = 1
    while count * IDS_PER_BUCKET < records:
        count *= 2
    return count


def _resized(count: int, records: int) -> int:
    """The bucket count after an update: the same until the buckets hold twice
    IDS_PER_BUCKET on average or under a quarter of it."""
    if records > 2 * IDS_PER_BUCKET * count or (count > 1 and 4 * records < IDS_PER_BUCKET * count):
        return bucket_count_for(records)
    return count


def _rebucket(store: Any, writer: _Writer, buckets: dict[str, str], count: int,
              new_count: int) -> dict[str, str]:
    """A source's buckets split (or joined) into `new_count` (powers of two both: a new
    bucket takes its ids from one old bucket, or joins new_count/count of them), one old
    bucket read at a time."""

    def load(number: int) -> dict[str, Any]:
        key = buckets.get(bucket_name(number))
        data = store.get(key) if key is not None else None
        return json.loads(data) if data is not None else {}

    out: dict[str, str] = {}
    if new_count > count:
        for number in range(count):
            parts: dict[int, dict[str, Any]] = {}
            for rid, value in load(number).items():
                parts.setdefault(id_hash(rid) % new_count, {})[rid] = value
            for part, ids in parts.items():
                out[bucket_name(part)] = writer.json(IDS, ids)
    else:
        for part in range(new_count):
            joined: dict[str, Any] = {}
            for number in range(part, count, new_count):
                joined.update(load(number))
            if joined:
                out[bucket_name(part)] = writer.json(IDS, joined)
    return out


# --- a new generation ---------------------------------------------------------------------

def _commit(store: Any, old: Manifest | None, new: Manifest, generations: Iterable[int]
            ) -> bool:
    """Write `new` create-only; on success drop, in one batch, what no live generation
    names and the manifests older than the previous one (`generations`: those listed when
    the update began; one listed later is newer, and this commit would have failed)."""
    data = json.dumps(new.to_json(), ensure_ascii=False, sort_keys=True).encode()
    if not store.put(manifest_key(new.generation), data, if_absent=True):
        return False
    live = new.referenced()
    dead = [key for key in (old.retired if old else []) if key not in live]
    dead += [manifest_key(g) for g in generations if g < new.generation - 1]
    if dead:
        many = getattr(store, "delete_many", None)
        if callable(many):
            many(dead)
        else:
            for key in dead:
                store.delete(key)
    return True


def _names(metas: Iterable[tuple[str, RecordMeta]], manifest: Manifest) -> None:
    for site, meta in metas:
        manifest.set_names.setdefault(site, archive_of(site)[0])
        if meta.type and meta.type_name:
            manifest.set_names.setdefault(f"{site}:{meta.type}", meta.type_name)
        for prefix, namespace, schema in meta.formats:
            manifest.formats.setdefault(prefix, {"namespace": namespace, "schema": schema})


def update_index(store: Any, site: str, *, known: Known | None = None,
                 segment_size: int = 1000, threads: int = 16,
                 covered: set[str] | None = None) -> UpdateResult | None:
    """Index the site's changes feeds not indexed yet; builds the whole index when the store
    has none. None when there was nothing to index. `covered`, when given, gets the run ids
    whose feeds the index holds now (indexed before, by this update, or changing nothing)."""
    for _ in range(ATTEMPTS):
        old, generations = latest_and_generations(store)
        if old is None:
            built = build_index(store, segment_size=segment_size, threads=threads,
                                known={site: known} if known is not None else None,
                                _listed=(old, generations))
            if covered is not None:
                covered.update(built.runs.get(site, ()))
            return built
        indexed = _read_feeds(store, old.feeds.get(site))
        pending = [r for r in feed_run_ids(store, site) if r not in indexed]
        if covered is not None:
            covered.update(indexed)
        if not pending:
            return None
        result = _update(store, site, old, generations, indexed, pending, known,
                         segment_size, threads)
        if result is False:
            log.info("OAI index: generation %d was written meanwhile; updating again",
                     old.generation + 1)
            continue
        if covered is not None:
            covered.update(pending)
        return result
    raise RuntimeError(f"OAI index: gave up after {ATTEMPTS} tries (other writers kept winning)")


def _update(store: Any, site: str, old: Manifest, generations: list[int], indexed: set[str],
            pending: list[str], known: Known | None, segment_size: int, threads: int
            ) -> UpdateResult | None | Literal[False]:
    """One try of an update on `old`: the result, None when the pending feeds change
    nothing indexed, False when another writer's generation won."""
    lines = latest_lines(store, site, pending)
    writer = _Writer(store, old.referenced())
    count = old.bucket_count(site)
    site_buckets = dict(old.buckets.get(site, {}))
    by_bucket: dict[str, list[str]] = {}
    for rid in lines:
        by_bucket.setdefault(bucket_of(rid, count), []).append(rid)
    removed: list[Entry] = []
    added: list[Entry] = []
    metas: set[RecordMeta] = set()
    read = 0
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for name in sorted(by_bucket):  # one bucket at a time
            data = store.get(site_buckets[name]) if name in site_buckets else None
            bucket: dict[str, Any] = json.loads(data) if data is not None else {}
            todo: list[tuple[str, tuple[str, bool, str], Entry | None, RecordMeta | None]] = []
            for rid in sorted(by_bucket.pop(name)):
                line = lines[rid]
                value = bucket.get(rid)
                previous = Entry.from_json(value) if value is not None else None
                if previous is not None and previous.datestamp > line[0]:
                    continue  # a later change is indexed already (a late feed of an older run)
                meta = _known_meta(known, rid, line)
                if meta is None and line[1] and previous is not None:
                    meta = RecordMeta(previous.type, "", previous.prefixes, ())
                todo.append((rid, line, previous, meta))
            need = [rid for rid, _, _, meta in todo if meta is None]
            records = dict(_read_metas(pool, store, site, need))
            read += len(need)
            changed = False
            for rid, (stamp, gone, _), previous, meta in todo:
                if meta is None:
                    record = records.pop(rid)
                    if record is None:
                        continue  # named by a feed, not in the store
                    meta = record_meta(record)
                entry = Entry(stamp, site, rid, gone, meta.type, meta.prefixes)
                if previous is not None:
                    if previous == entry:
                        continue
                    removed.append(previous)
                added.append(entry)
                metas.add(meta)
                bucket[rid] = entry.to_json()
                changed = True
            if changed:
                site_buckets[name] = writer.json(IDS, bucket)
            del bucket
    del lines
    if not added:
        # an idle run (or one whose lines change nothing indexed): no new generation, the
        # store is left as it was; its feed is recorded with the next run that changes
        # something (until then an update reads it again: an empty feed is one GET)
        return None

    def load(info: SegmentInfo) -> list[Entry]:
        data = store.get(info.key)
        return decode_segment(data) if data is not None else []

    segments = apply_to_segments(old.segments, removed, added, load, writer, segment_size)
    records_now = sum(s.counts.get(f"{site}\t", 0) for s in segments)
    new_count = _resized(count, records_now)
    if new_count != count:
        site_buckets = _rebucket(store, writer, site_buckets, count, new_count)
    new = Manifest(lineage=old.lineage, generation=old.generation + 1, updated_at=utc_now(),
                   segments=segments, buckets={**old.buckets, site: site_buckets},
                   feeds={**old.feeds, site: writer.json(FEEDS, sorted(indexed | set(pending)))},
                   set_names=dict(old.set_names), formats=dict(old.formats),
                   bucket_counts={**{s: old.bucket_count(s) for s in old.buckets},
                                  site: new_count})
    _names(((site, meta) for meta in metas), new)
    new.retired = sorted(old.referenced() - new.referenced())
    if not _commit(store, old, new, generations):
        return False
    return UpdateResult(new.generation, len(added), len(pending), read, writer.written + 1)


def _runs_by_site(store: Any) -> dict[str, list[str]]:
    """site -> the run ids with a changes feed, oldest first: one listing of runs/."""
    out: dict[str, list[str]] = {}
    for key in store.list(top_prefix("runs")):
        parts = key.split("/", 2)
        if len(parts) == 3 and is_site(parts[1]):
            run_id = changes_run_id(parts[1], key)
            if run_id is not None:
                out.setdefault(parts[1], []).append(run_id)
    return {site: sorted(runs) for site, runs in out.items()}


def build_index(store: Any, *, segment_size: int = 1000, threads: int = 16,
                known: Mapping[str, Known | None] | None = None,
                _listed: tuple[Manifest | None, list[int]] | None = None) -> UpdateResult:
    """The whole index from the store's records and changes feeds, as a new lineage.
    `known`: site -> what a run just stored holds (those records are not read again: the
    first run into a store indexes what it stored without reading it back)."""
    known = known or {}
    for attempt in range(ATTEMPTS):
        old, generations = (_listed if _listed is not None and attempt == 0
                            else latest_and_generations(store))
        result = _build(store, old, generations, segment_size, threads, known)
        if result is not None:
            log.info("OAI index built: %d records, generation %d", result.entries_changed,
                     result.generation)
            return result
    raise RuntimeError(f"OAI index: gave up after {ATTEMPTS} tries (other writers kept winning)")


def _build(store: Any, old: Manifest | None, generations: list[int], segment_size: int,
           threads: int, known: Mapping[str, Known | None]) -> UpdateResult | None:
    """The whole index, holding at most SpillSort's limit of lines, records or entries at a
    time (sorted runs spilled to temporary files): the feeds' lines and the listed records
    sorted by (site, id) and joined, then the entries sorted by datestamp for the segments
    and by (site, bucket) for the id buckets."""
    writer = _Writer(store, old.referenced() if old else ())
    runs = _runs_by_site(store)
    with SpillSort() as lines, SpillSort() as listed, SpillSort(make=Entry) as by_key:
        _sort_feed_lines(store, runs, lines)
        for site, rid in _listed_records(store):
            listed.add((site, rid))
        metas: set[tuple[str, RecordMeta]] = set()
        counts: dict[str, int] = {}
        read = 0
        with ThreadPoolExecutor(max(1, threads)) as pool:
            for entry, meta, was_read in _joined_entries(pool, store, iter(listed),
                                                         _latest_per_id(iter(lines)), known):
                read += was_read
                by_key.add(entry)
                counts[entry.site] = counts.get(entry.site, 0) + 1
                metas.add((entry.site, meta))
        sites = sorted(set(runs) | set(counts))
        bucket_counts = {site: bucket_count_for(counts.get(site, 0)) for site in sites}
        generation = max(generations, default=0) + 1
        segments: list[SegmentInfo] = []
        chunk: list[Entry] = []
        with SpillSort() as by_bucket:
            for entry in by_key:  # datestamp order: the segments, and the buckets' sort fed
                chunk.append(entry)
                if len(chunk) >= segment_size:
                    segments.append(writer.segment(chunk))
                    chunk = []
                number = id_hash(entry.record_id) % bucket_counts[entry.site]
                by_bucket.add((entry.site, number, entry.record_id, *entry[3:], entry.datestamp))
            if chunk:
                segments.append(writer.segment(chunk))
            del chunk
            buckets = _write_sorted_buckets(writer, by_bucket, sites)
    total = sum(counts.values())
    feeds = {site: writer.json(FEEDS, runs.get(site, [])) for site in sites}
    new = Manifest(lineage=uuid.uuid4().hex, generation=generation, updated_at=utc_now(),
                   segments=segments, buckets=buckets, feeds=feeds, bucket_counts=bucket_counts)
    _names(sorted(metas, key=lambda m: (m[0], repr(m[1]))), new)
    new.retired = sorted(old.referenced() - new.referenced()) if old else []
    if not _commit(store, old, new, generations):
        return None
    return UpdateResult(new.generation, total, len(feeds), read, writer.written + 1,
                        rebuilt=True, runs=runs)


def _sort_feed_lines(store: Any, runs: Mapping[str, list[str]], out: SpillSort) -> None:
    """Every dated line of the sites' feeds as (site, id, datestamp, order, withdrawn, run
    id), `order` counting the lines in the order of the runs (oldest first) and of their
    feeds: a record's latest line is then its last in (site, id) order (as latest_lines:
    the latest datestamp; of equal ones, the later run's, the later line)."""
    order = 0
    stamps: dict[str, str | None] = {}
    for site, site_runs in runs.items():
        for run_id in sorted(site_runs):
            for rid, stamp, gone in iter_feed(store, site, run_id, stamps):
                if stamp is not None:
                    out.add((site, rid, stamp, order, gone, run_id))
                    order += 1


def _latest_per_id(lines: Iterator[tuple[Any, ...]]
                   ) -> Iterator[tuple[tuple[str, str], tuple[str, bool, str]]]:
    """((site, id), (datestamp, withdrawn, run id)) of each id's latest line, in (site, id)
    order, from _sort_feed_lines' lines in sorted order."""
    current: tuple[str, str] | None = None
    value: tuple[str, bool, str] | None = None
    for site, rid, stamp, _order, gone, run_id in lines:
        if current is not None and (current[0] != site or current[1] != rid):
            yield current, value  # type: ignore[misc]
        current, value = (site, rid), (stamp, gone, run_id)
    if current is not None and value is not None:
        yield current, value


def _listed_records(store: Any) -> Iterator[tuple[str, str]]:
    """(site, record id) of every record in the store: one listing of records/ (in any
    order: a local store's folder is not sorted for it)."""
    for key in list_any_order(store, top_prefix("records")):
        parts = key.split("/", 2)
        if len(parts) < 3 or not is_site(parts[1]):
            continue
        name = parts[2]
        part = name[:-5] if name.endswith(".json") else ""
        rid = part if part and is_plain_id(part) else record_id_at(store, parts[1], key)
        if rid is not None:
            yield parts[1], rid


def _joined_entries(pool: ThreadPoolExecutor, store: Any, listed: Iterator[tuple[str, str]],
                    latest: Iterator[tuple[tuple[str, str], tuple[str, bool, str]]],
                    known: Mapping[str, Known | None]
                    ) -> Iterator[tuple[Entry, RecordMeta, bool]]:
    """(entry, what it holds, whether its record was read) of each listed record, from the
    records (site, id) and the latest lines, both in (site, id) order: a record its run said
    what it holds (`known`) is not read; the others are read READ_CHUNK at a time, its
    datestamp being its latest line's, else its own harvested_at (withdrawn_at)."""
    line_at = next(latest, None)
    previous: tuple[str, str] | None = None
    unread: list[tuple[str, str, tuple[str, bool, str] | None]] = []
    for site_rid in listed:
        if site_rid == previous:
            continue
        previous = site_rid
        while line_at is not None and line_at[0] < site_rid:
            line_at = next(latest, None)
        line = line_at[1] if line_at is not None and line_at[0] == site_rid else None
        site, rid = site_rid
        meta = _known_meta(known.get(site), rid, line) if line is not None else None
        if line is not None and meta is not None:
            yield Entry(line[0], site, rid, line[1], meta.type, meta.prefixes), meta, False
            continue
        unread.append((site, rid, line))
        if len(unread) >= READ_CHUNK:
            yield from _read_entries(pool, store, unread)
            unread = []
    if unread:
        yield from _read_entries(pool, store, unread)


def _read_entries(pool: ThreadPoolExecutor, store: Any,
                  unread: list[tuple[str, str, tuple[str, bool, str] | None]]
                  ) -> Iterator[tuple[Entry, RecordMeta, bool]]:
    records = pool.map(lambda item: _read_record(store, item[0], item[1]), unread)
    for (site, rid, line), record in zip(unread, records, strict=True):
        if record is None:
            continue
        gone = record.get("status") == "withdrawn"
        stamp = line[0] if line is not None else seconds(
            record.get("withdrawn_at") if gone else record.get("harvested_at"))
        if stamp is None:
            continue
        meta = record_meta(record)
        yield Entry(stamp, site, rid, gone, meta.type, meta.prefixes), meta, True


def _write_sorted_buckets(writer: _Writer, by_bucket: SpillSort, sites: list[str]
                          ) -> dict[str, dict[str, str]]:
    """site -> bucket -> key, from (site, bucket number, id, withdrawn, type, prefixes,
    datestamp) items in order: one bucket in memory at a time."""
    buckets: dict[str, dict[str, str]] = {site: {} for site in sites}
    group: dict[str, list[Any]] = {}
    at: tuple[str, int] | None = None
    for site, number, rid, deleted, type_, prefixes, stamp in by_bucket:
        if at is not None and (site, number) != at:
            buckets[at[0]][bucket_name(at[1])] = writer.json(IDS, group)
            group = {}
        at = (site, number)
        group[rid] = Entry(stamp, site, rid, deleted, type_, prefixes).to_json()
    if at is not None:
        buckets[at[0]][bucket_name(at[1])] = writer.json(IDS, group)
    return buckets


__all__ = ["BUCKETS", "IDS_PER_BUCKET", "KnownMetas", "RecordMeta", "UpdateResult",
           "build_index", "bucket_count_for", "record_meta", "update_index"]
