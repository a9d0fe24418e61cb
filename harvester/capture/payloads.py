"""`PayloadIndex`: which payloads were captured already, so a repeat becomes a revisit.

Kept in the store, one small marker per payload digest (sha256 hex):

    state/<site>/payloads/<sha256>.json   {"digest", "uri", "date", "record_id", "warc"}

A marker is written (create-only: the first capture wins) only after the WARC
file holding that response record is in the store, so a revisit never refers to
a capture a crash lost. Until then the digest is known in memory (`pending`), for
revisits within the same run. Markers hold across runs and processes.

The digests that have a marker are listed once, on first use (one LIST per thousand
markers), so a new payload, the common case, costs no store round trip; a marker is
read only for a digest known to have one. Markers written by other processes after that
listing are not seen: their payloads are captured in full again instead of as revisits.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harvester.capture.records import Original, PayloadDigest
from harvester.keys import state_key
from pipelines.storage import Store

log = logging.getLogger(__name__)

PUBLISH_THREADS = 8  # payload markers written at once when a WARC file is stored


def payload_key(site: str, digest_hex: str) -> str:
    return state_key(site, "payloads", f"{digest_hex}.json")


class PayloadIndex:
    def __init__(self, store: Store, site: str) -> None:
        self.store = store
        self.site = site
        self._pending: dict[str, tuple[str, dict[str, Any]]] = {}  # hex -> (file, marker)
        self._lock = threading.Lock()  # found/added by the writer, published by the uploader
        self._known: set[str] | None = None  # digests with a marker in the store

    def _known_digests(self) -> set[str]:
        if self._known is None:
            prefix = state_key(self.site, "payloads") + "/"
            known = {key[len(prefix):-len(".json")] for key in self.store.list(prefix)
                     if key.endswith(".json")}
            with self._lock:
                if self._known is None:
                    self._known = known
        return self._known

    def find(self, digest: PayloadDigest) -> Original | None:
        """The earlier capture of this payload, if any (this run's or an earlier one's)."""
        with self._lock:
            pending = self._pending.get(digest.hex)
        marker = pending[1] if pending else None
        if marker is None and digest.hex in self._known_digests():
            data = self.store.get(payload_key(self.site, digest.hex))
            try:
                marker = json.loads(data) if data else None
            except ValueError:
                marker = None
        if not isinstance(marker, dict) or marker.get("digest") != digest.warc:
            return None
        try:
            return Original(str(marker["uri"]), str(marker["date"]), str(marker["record_id"]))
        except KeyError:
            return None

    def add(self, digest: PayloadDigest, original: Original, file_name: str) -> None:
        """Remember a new capture written to the local file `file_name`; its marker is
        saved by `publish(file_name, key)` once that file is in the store."""
        marker = {"digest": digest.warc, "uri": original.uri, "date": original.date,
                  "record_id": original.record_id}
        with self._lock:
            self._pending.setdefault(digest.hex, (file_name, marker))

    def publish(self, file_name: str, warc_key: str) -> int:
        """Save the markers of captures in `file_name`, now stored at `warc_key`."""
        with self._lock:
            done = [(h, m) for h, (f, m) in self._pending.items() if f == file_name]

        def save(item: tuple[str, dict[str, Any]]) -> None:
            digest_hex, marker = item
            body = json.dumps(marker | {"warc": warc_key}, sort_keys=True).encode("utf-8")
            self.store.put(payload_key(self.site, digest_hex), body,
                           content_type="application/json", if_absent=True)
            with self._lock:
                self._pending.pop(digest_hex, None)
                if self._known is not None:
                    self._known.add(digest_hex)

        # one small create-only object per capture (thousands per WARC file): in parallel,
        # or a remote store spends minutes on round trips at the end of a run
        with ThreadPoolExecutor(max_workers=PUBLISH_THREADS,
                                thread_name_prefix="warc-markers") as pool:
            for _ in pool.map(save, done):
                pass
        return len(done)

    def forget(self, file_name: str) -> None:
        """Drop the pending captures of a file that could not be stored."""
        with self._lock:
            for digest_hex in [h for h, (f, _) in self._pending.items() if f == file_name]:
                del self._pending[digest_hex]
