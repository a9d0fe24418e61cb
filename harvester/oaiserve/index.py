"""The OAI index in the store (index/oai/...): what the provider reads instead of listing
records/ for each request.

    index/oai/manifests/<generation>.json   the index's state: its segments, id buckets,
                                            sets, formats; one object per generation
    index/oai/segments/<digest>.jsonl       entries sorted by (datestamp, source, record id)
    index/oai/ids/<digest>.json             one bucket of a source's record ids -> entry (a
                                            source has a power of two of them, ~1,000-4,000
                                            ids each: `bucket_counts`; 64 in format 2)
    index/oai/feeds/<digest>.json           the run ids whose changes feeds are indexed

Everything but the manifests is immutable and named by its content's digest: a new
generation writes the segments and buckets it changed, then its manifest create-only
(If-None-Match), so two harvests finishing at once cannot lose each other's update (the
loser reads the winner's generation and applies its changes again). A provider holding an
older manifest still finds every object it names: objects leave the store one generation
after the last manifest naming them.

An entry is one record's header: `[datestamp, source, record_id, deleted, type slug,
[raw metadata prefixes]]`, the datestamp at seconds granularity (when the record last
changed in the store: new, changed, withdrawn or restored, from the changes feeds).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from harvester.keys import top_prefix

ROOT = top_prefix("index") + "oai/"
MANIFESTS = ROOT + "manifests/"
SEGMENTS = ROOT + "segments/"
IDS = ROOT + "ids/"
FEEDS = ROOT + "feeds/"
FORMAT_VERSION = 3  # a manifest of another format is no index: the provider builds one
READABLE = (2, 3)  # format 2: 64 id buckets for every source (no bucket_counts)
BUCKETS = 64  # id buckets of a source a manifest of format 2 names

_MANIFEST_RE = re.compile(r"^(\d{12})\.json$")


class Entry(NamedTuple):
    datestamp: str  # YYYY-MM-DDThh:mm:ssZ
    site: str  # the source (setSpec of its set)
    record_id: str
    deleted: bool
    type: str  # type slug ("" = none): setSpec <site>:<type>
    prefixes: tuple[str, ...]  # raw metadata prefixes the record carries (oai_metadata)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.datestamp, self.site, self.record_id)

    def sets(self) -> list[str]:
        return [self.site, f"{self.site}:{self.type}"] if self.type else [self.site]

    def to_json(self) -> list[Any]:
        return [self.datestamp, self.site, self.record_id, int(self.deleted), self.type,
                list(self.prefixes)]

    @classmethod
    def from_json(cls, value: list[Any]) -> Entry:
        d, s, r, deleted, t, p = value
        return cls(str(d), str(s), str(r), bool(deleted), str(t), tuple(str(x) for x in p))


def count_keys(entry: Entry) -> Iterator[str]:
    """The counters an entry adds one to: `<set or "">\\t<raw prefix or "">`."""
    for spec in ("", *entry.sets()):
        yield f"{spec}\t"
        for prefix in entry.prefixes:
            yield f"{spec}\t{prefix}"


def counts_of(entries: Iterable[Entry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        for name in count_keys(entry):
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def type_slug(value: object) -> str:
    """A document type as a setSpec part: "Memorandum of Conversation" ->
    "memorandum-of-conversation"; "" for none."""
    if not isinstance(value, str):
        return ""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:64]


def digest_key(folder: str, data: bytes, suffix: str) -> str:
    return f"{folder}{hashlib.sha256(data).hexdigest()[:32]}{suffix}"


def id_hash(record_id: str) -> int:
    digest = hashlib.sha256(record_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big")


def bucket_name(number: int) -> str:
    return f"{number:02x}"


def bucket_of(record_id: str, count: int = BUCKETS) -> str:
    """The id bucket of `record_id` among a source's `count` buckets."""
    return bucket_name(id_hash(record_id) % count)


def manifest_key(generation: int) -> str:
    return f"{MANIFESTS}{generation:012d}.json"


def encode_segment(entries: list[Entry]) -> bytes:
    return b"".join(json.dumps(e.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
                    + b"\n" for e in entries)


def decode_segment(data: bytes) -> list[Entry]:
    return [Entry.from_json(json.loads(line)) for line in data.splitlines() if line.strip()]


@dataclass
class SegmentInfo:
    key: str
    first: tuple[str, str, str]
    last: tuple[str, str, str]
    count: int
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "first": list(self.first), "last": list(self.last),
                "count": self.count, "counts": self.counts}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SegmentInfo:
        return cls(str(value["key"]), tuple(value["first"]), tuple(value["last"]),
                   int(value["count"]), dict(value["counts"]))


@dataclass
class Manifest:
    lineage: str  # random id of this index (a rebuild makes a new one: old tokens fail)
    generation: int
    updated_at: str
    segments: list[SegmentInfo] = field(default_factory=list)
    buckets: dict[str, dict[str, str]] = field(default_factory=dict)  # site -> bucket -> key
    feeds: dict[str, str] = field(default_factory=dict)  # site -> key of its indexed run ids
    set_names: dict[str, str] = field(default_factory=dict)  # setSpec -> setName
    formats: dict[str, dict[str, str]] = field(default_factory=dict)  # prefix -> schema, namespace
    retired: list[str] = field(default_factory=list)  # keys the previous generation dropped
    bucket_counts: dict[str, int] = field(default_factory=dict)  # site -> its id buckets

    def bucket_count(self, site: str) -> int:
        return self.bucket_counts.get(site, BUCKETS)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "lineage": self.lineage, "generation": self.generation,
                "updated_at": self.updated_at,
                "segments": [s.to_json() for s in self.segments], "buckets": self.buckets,
                "bucket_counts": {site: self.bucket_count(site) for site in self.buckets},
                "feeds": self.feeds, "set_names": self.set_names, "formats": self.formats,
                "retired": self.retired}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Manifest:
        return cls(lineage=str(value["lineage"]), generation=int(value["generation"]),
                   updated_at=str(value["updated_at"]),
                   segments=[SegmentInfo.from_json(s) for s in value.get("segments", [])],
                   buckets={k: dict(v) for k, v in value.get("buckets", {}).items()},
                   feeds=dict(value.get("feeds", {})), set_names=dict(value.get("set_names", {})),
                   formats={k: dict(v) for k, v in value.get("formats", {}).items()},
                   retired=list(value.get("retired", [])),
                   bucket_counts={k: int(v) for k, v in value.get("bucket_counts", {}).items()})

    def referenced(self) -> set[str]:
        keys = {s.key for s in self.segments} | set(self.feeds.values())
        for buckets in self.buckets.values():
            keys.update(buckets.values())
        return keys

    def total(self, name: str = "\t") -> int:
        return sum(s.counts.get(name, 0) for s in self.segments)

    def earliest(self) -> str | None:
        return self.segments[0].first[0] if self.segments else None

    def sets(self) -> dict[str, str]:
        """setSpec -> setName of the sets holding at least one record, sorted by setSpec."""
        live = {name.split("\t", 1)[0] for s in self.segments for name, n in s.counts.items()
                if n and name.endswith("\t") and name != "\t"}
        return {spec: self.set_names.get(spec, spec) for spec in sorted(live)}

    def prefixes(self) -> dict[str, dict[str, str]]:
        """The raw metadata formats at least one record carries."""
        return {p: f for p, f in sorted(self.formats.items()) if self.total(f"\t{p}")}


def load_latest_manifest(store: Any) -> Manifest | None:
    """The newest generation's manifest, None when the store has no OAI index (or one of
    another format)."""
    return latest_and_generations(store)[0]


def latest_and_generations(store: Any) -> tuple[Manifest | None, list[int]]:
    """The newest generation's manifest (None: no index, or one of another format) and the
    generations listed: one listing, one read."""
    generations = manifest_generations(store)
    for generation in reversed(generations):  # the newest first; an older one if it went
        data = store.get(manifest_key(generation))
        if data is not None:
            value = json.loads(data)
            if value.get("format") not in READABLE:
                return None, generations
            return Manifest.from_json(value), generations
    return None, generations


def manifest_generations(store: Any) -> list[int]:
    out = []
    for key in store.list(MANIFESTS):
        m = _MANIFEST_RE.match(key[len(MANIFESTS):])
        if m:
            out.append(int(m.group(1)))
    return sorted(out)


# --- reading (the provider) ----------------------------------------------------------------

class IndexGone(Exception):
    """An object the manifest names is not in the store (a newer generation dropped it)."""


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class Query:
    """What a list request selects: a metadata prefix ("oai_dc": every record), a set, and
    a datestamp range (inclusive, seconds; None = open)."""
    prefix: str
    set_spec: str | None = None
    start: str | None = None
    end: str | None = None

    def raw_prefix(self) -> str:
        return "" if self.prefix == "oai_dc" else self.prefix

    def count_name(self) -> str:
        return f"{self.set_spec or ''}\t{self.raw_prefix()}"

    def matches(self, entry: Entry) -> bool:
        if self.start is not None and entry.datestamp < self.start:
            return False
        if self.end is not None and entry.datestamp > self.end:
            return False
        if self.set_spec is not None and self.set_spec not in entry.sets():
            return False
        raw = self.raw_prefix()
        return not raw or raw in entry.prefixes


class IndexReader:
    """The provider's view of the index: the newest manifest (read again after `ttl`
    seconds), and small caches of the immutable segments and buckets it reads."""

    def __init__(self, store: Any, ttl: float = 5.0, cached_segments: int = 4,
                 cached_buckets: int = 64) -> None:
        self.store = store
        self.ttl = ttl
        self._manifest: Manifest | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()
        self._segments = _Lru(cached_segments)
        self._buckets = _Lru(cached_buckets)

    def manifest(self, fresh: bool = False) -> Manifest | None:
        with self._lock:
            now = time.monotonic()
            if fresh or self._manifest is None or now - self._read_at >= self.ttl:
                self._manifest = load_latest_manifest(self.store)
                self._read_at = now
            return self._manifest

    def segment(self, info: SegmentInfo) -> list[Entry]:
        entries = self._segments.get(info.key)
        if entries is None:
            data = self.store.get(info.key)
            if data is None:
                raise IndexGone(info.key)
            entries = decode_segment(data)
            self._segments.put(info.key, entries)
        return entries

    def entry(self, manifest: Manifest, site: str, record_id: str) -> Entry | None:
        key = manifest.buckets.get(site, {}).get(bucket_of(record_id,
                                                           manifest.bucket_count(site)))
        if key is None:
            return None
        bucket = self._buckets.get(key)
        if bucket is None:
            data = self.store.get(key)
            if data is None:
                raise IndexGone(key)
            bucket = json.loads(data)
            self._buckets.put(key, bucket)
        value = bucket.get(record_id)
        return None if value is None else Entry.from_json(value)

    def select(self, manifest: Manifest, query: Query, after: tuple[str, str, str] | None,
               limit: int) -> list[Entry]:
        """Up to `limit` entries matching `query` after the sort key `after`, in order."""
        out: list[Entry] = []
        segments = manifest.segments
        start = 0
        if after is not None:
            start = bisect.bisect_left([tuple(s.last) for s in segments], after)
        for info in segments[start:]:
            if query.end is not None and info.first[0] > query.end:
                break
            if query.start is not None and info.last[0] < query.start:
                continue
            if not info.counts.get(query.count_name()):
                continue
            for entry in self.segment(info):
                if after is not None and entry.key <= after:
                    continue
                if query.matches(entry):
                    out.append(entry)
                    if len(out) >= limit:
                        return out
        return out

    def count(self, manifest: Manifest, query: Query) -> int:
        """How many entries match `query`: whole segments from their counters, the (at most
        two) segments the datestamp range cuts through read."""
        total = 0
        name = query.count_name()
        for info in manifest.segments:
            if not info.counts.get(name):
                continue
            if query.end is not None and info.first[0] > query.end:
                break
            if query.start is not None and info.last[0] < query.start:
                continue
            inside = ((query.start is None or info.first[0] >= query.start)
                      and (query.end is None or info.last[0] <= query.end))
            if inside:
                total += info.counts[name]
            else:
                total += sum(1 for e in self.segment(info) if query.matches(e))
        return total
