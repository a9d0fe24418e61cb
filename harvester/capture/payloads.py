"""`PayloadIndex`: which payloads were captured already, so a repeat becomes a revisit.

Kept in the store, one index object per stored WARC file, named after it:

    state/<site>/payloads/<warc file stem>.json
        {"warc": "raw/<site>/<name>.warc.gz",
         "payloads": {"<sha256 hex>": {"digest", "uri", "date", "record_id"}, ...}}

An index object is written (create-only) only after its WARC file is in the store, so
a revisit never refers to a capture a crash lost. Until then a digest is known in memory
(`pending`), for revisits within the same run. One object per WARC file (a few hundred
captures) rather than one per capture: a backfill of 2,000 documents writes a handful of
them instead of 4,400 markers (one store round trip each on S3).

The index objects are read once, on first use; after that a new payload, the common
case, costs no store round trip. Per-digest markers of earlier versions
(state/<site>/payloads/<sha256 hex>.json) are still honoured. Index objects written by
other processes after that first read are not seen: their payloads are captured in full
again instead of as revisits (never wrong, only bigger).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from harvester.capture.records import Original, PayloadDigest
from harvester.keys import state_key, state_prefix
from harvester.state import load_json
from pipelines.storage import Store

log = logging.getLogger(__name__)

_HEX = re.compile(r"[0-9a-f]{64}")
_CACHED_INDEXES = 4  # parsed index objects kept for lookups of earlier runs' payloads


def payload_key(site: str, digest_hex: str) -> str:
    """A per-digest marker, as written by earlier versions (still read)."""
    return state_key(site, "payloads", f"{digest_hex}.json")


def payload_index_key(site: str, warc_name: str) -> str:
    """The index object of the WARC file `warc_name` (<run_id>-<seq>.warc.gz)."""
    stem = warc_name[: -len(".warc.gz")] if warc_name.endswith(".warc.gz") else warc_name
    return state_key(site, "payloads", f"{stem}.json")


class PayloadIndex:
    def __init__(self, store: Store, site: str,
                 listed: Callable[[str], list[str] | None] | None = None) -> None:
        """`listed`: the keys under a prefix as a listing made at the run's start saw
        them, None when it cannot say (the state's `listed`: one listing of state/<site>/
        for its folders on a remote store); else the payload indexes are listed."""
        self.store = store
        self.site = site
        self.listed = listed
        self._pending: dict[str, tuple[str, dict[str, Any]]] = {}  # hex -> (file, marker)
        self._lock = threading.Lock()  # found/added by the writer, published by the uploader
        self._known: dict[str, str] | None = None  # digest hex -> store key holding it
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def _known_digests(self) -> dict[str, str]:
        if self._known is None:
            prefix = state_prefix(self.site, "payloads")
            known: dict[str, str] = {}
            keys = self.listed(prefix) if self.listed is not None else None
            for key in keys if keys is not None else self.store.list(prefix):
                name = key[len(prefix):]
                if not name.endswith(".json"):
                    continue
                if _HEX.fullmatch(name[:-5]):  # an earlier version's per-digest marker
                    known[name[:-5]] = key
                    continue
                index = load_json(self.store.get(key))
                payloads = index.get("payloads") if isinstance(index, dict) else None
                if isinstance(payloads, dict):
                    for digest_hex in payloads:
                        known.setdefault(str(digest_hex), key)
            with self._lock:
                if self._known is None:
                    self._known = known
        return self._known

    def _stored_marker(self, digest_hex: str) -> dict[str, Any] | None:
        key = self._known_digests().get(digest_hex)
        if key is None:
            return None
        if key.endswith(f"/{digest_hex}.json"):
            value = load_json(self.store.get(key))
            return value if isinstance(value, dict) else None
        index = self._cache.get(key)
        if index is None:
            index = load_json(self.store.get(key))
            if not isinstance(index, dict):
                return None
            self._cache[key] = index
            while len(self._cache) > _CACHED_INDEXES:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        marker = (index.get("payloads") or {}).get(digest_hex)
        return marker if isinstance(marker, dict) else None

    def find(self, digest: PayloadDigest) -> Original | None:
        """The earlier capture of this payload, if any (this run's or an earlier one's)."""
        with self._lock:
            pending = self._pending.get(digest.hex)
        marker = pending[1] if pending else self._stored_marker(digest.hex)
        if not isinstance(marker, dict) or marker.get("digest") != digest.warc:
            return None
        try:
            return Original(str(marker["uri"]), str(marker["date"]), str(marker["record_id"]))
        except KeyError:
            return None

    def add(self, digest: PayloadDigest, original: Original, file_name: str) -> None:
        """Remember a new capture written to the local file `file_name`; it is indexed by
        `publish(file_name, key)` once that file is in the store."""
        marker = {"digest": digest.warc, "uri": original.uri, "date": original.date,
                  "record_id": original.record_id}
        with self._lock:
            self._pending.setdefault(digest.hex, (file_name, marker))

    def publish(self, file_name: str, warc_key: str) -> int:
        """Write the index object of `file_name`, now stored at `warc_key`; returns how
        many payloads it lists."""
        with self._lock:
            done = {h: m for h, (f, m) in self._pending.items() if f == file_name}
        if not done:
            return 0
        key = payload_index_key(self.site, warc_key.rsplit("/", 1)[-1])
        body = json.dumps({"warc": warc_key, "payloads": done}, sort_keys=True).encode("utf-8")
        self.store.put(key, body, content_type="application/json", if_absent=True)
        with self._lock:
            for digest_hex in done:
                self._pending.pop(digest_hex, None)
                if self._known is not None:
                    self._known[digest_hex] = key
        return len(done)

    def forget(self, file_name: str) -> None:
        """Drop the pending captures of a file that could not be stored."""
        with self._lock:
            for digest_hex in [h for h, (f, _) in self._pending.items() if f == file_name]:
                del self._pending[digest_hex]
