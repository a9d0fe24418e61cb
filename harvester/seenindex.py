"""SeenIndex: seen markers kept in a few batch objects instead of one object per URL.

On a remote store (S3) a marker per document is a PUT per stored document and a GET per
listed one. Batched, a run reads every marker of the site once (a listing and a GET per
batch object, a few in all once compacted), and writes the markers it makes in batches:

    state/<site>/seen-batch/<name>.json   {"markers": {<url digest>: <marker>, ...},
                                           "per_url": <bool, compacted objects only>}

- Names sort in the order the batches were written (`<run id>-<sequence>`); a marker in
  a later object wins over one in an earlier object.
- `flush()` writes the pending markers as one object. The state calls it before it saves
  a walk's cursor (so the cursor never passes documents whose markers are not in the
  store) and at the end of the run; a batch also goes out when it holds `batch_size`.
  A run killed in between loses the markers of its last page at most: those documents are
  fetched again and found unchanged (the create-only write of the record decides).
- `compact()` (at the end of a run) merges the objects when there are more than
  `compact_over`, then deletes the ones it merged (a batch written meanwhile is kept);
  neighbours are merged into objects of at most `merge_max` markers, read one at a time,
  so a run holds at most that many in memory whatever the size of the site.
- A run that only writes markers (a listing that brings its records whole: OAI-PMH) never
  reads them all: `add` and `flush` do not load the index, and whether per-URL markers
  exist is read from the newest object that says.
- Each object says whether per-URL markers (state/<site>/seen/<digest>.json, written by
  earlier versions and by local stores) existed when it was written, so later runs need
  not look for them (the latest object's word counts).
- A reader that meets an object deleted since its listing (another process compacted)
  lists again once.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any

from harvester.exceptions import StoreError
from harvester.keys import state_key, state_prefix
from pipelines.storage import Store
from pipelines.storage.base import delete_all

JSON = "application/json"
FOLDER = "seen-batch"


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class SeenIndex:
    def __init__(self, store: Store, site: str, *, run_id: str = "", batch_size: int = 2000,
                 compact_over: int = 2, merge_max: int = 50000) -> None:
        self.store = store
        self.site = site
        self.batch_size = batch_size
        self.compact_over = compact_over
        self.merge_max = merge_max
        self._name = run_id or secrets.token_hex(6)
        self._writer = secrets.token_hex(3)  # two processes of one run id write apart
        self._seq = itertools.count()
        self._lock = threading.Lock()  # guards the fields below
        self._flush_lock = threading.Lock()  # one batch written at a time, in order
        self._markers: dict[str, dict[str, Any]] | None = None  # digest -> marker
        self._objects: list[str] = []  # the batch objects read or written by this index
        self._per_url: bool | None = None  # per-URL marker objects exist (None: unknown)
        self._pending: dict[str, dict[str, Any]] = {}
        # whether per-URL markers exist, as the state found out: recorded in each batch
        self.per_url_note: bool | None = None

    # --- reading ----------------------------------------------------------------------
    def _prefix(self) -> str:
        return state_prefix(self.site, FOLDER)

    def _load(self) -> dict[str, dict[str, Any]]:
        """Blocking, once: every marker of the batch objects."""
        with self._lock:
            if self._markers is not None:
                return self._markers
        markers: dict[str, dict[str, Any]] = {}
        per_url: bool | None = None
        read: list[str] = []
        for attempt in (1, 2):
            keys = [k for k in self.store.list(self._prefix()) if k.endswith(".json")]
            markers, per_url, read, vanished = {}, None, [], False
            for key in keys:
                value = _loads(self.store.get(key))
                if value is None:
                    vanished = True  # compacted away since the listing
                    continue
                read.append(key)
                found = value.get("markers")
                if isinstance(found, dict):
                    markers.update((d, m) for d, m in found.items() if isinstance(m, dict))
                if isinstance(value.get("per_url"), bool):
                    per_url = value["per_url"]  # the latest compacted object's word
            if not vanished or attempt == 2:
                break
        with self._lock:
            if self._markers is None:
                markers.update(self._pending)  # marked before the first read
                self._markers, self._per_url = markers, per_url
                self._objects = list(dict.fromkeys(read + self._objects))
            return self._markers

    def get(self, digest: str) -> dict[str, Any] | None:
        return self._load().get(digest)

    def per_url_markers(self) -> bool | None:
        """What the latest object that says it said: whether per-URL markers exist (None:
        none said, look). Read from the loaded index, or else from the newest objects
        first, without loading the rest."""
        with self._lock:
            if self._markers is not None:
                return self._per_url
        keys = [k for k in self.store.list(self._prefix()) if k.endswith(".json")]
        for key in reversed(keys):
            value = _loads(self.store.get(key))
            if value is not None and isinstance(value.get("per_url"), bool):
                return bool(value["per_url"])
        return None

    def markers(self) -> Iterator[dict[str, Any]]:
        yield from list(self._load().values())

    def digests(self) -> set[str]:
        return set(self._load())

    # --- writing ----------------------------------------------------------------------
    def add(self, digest: str, marker: dict[str, Any]) -> None:
        """Blocking only when the batch is full (it is written then). The index is not
        read for it (a read later sees the pending markers)."""
        with self._lock:
            if self._markers is not None:
                self._markers[digest] = marker
            self._pending[digest] = marker
            full = len(self._pending) >= self.batch_size
        if full:
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> None:
        """Blocking: the pending markers as one batch object (nothing when none)."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return
            key = self._next_key()
            body: dict[str, Any] = {"markers": batch}
            if self.per_url_note is not None:
                body["per_url"] = self.per_url_note
            try:
                self.store.put(key, _dump(body), content_type=JSON)
            except StoreError:
                with self._lock:  # written by the next flush; newer markers stay newer
                    self._pending = batch | self._pending
                raise
            with self._lock:
                self._objects.append(key)

    def compact(self, per_url: bool | None = None) -> bool:
        """Blocking, at the end of a run: merge the batch objects when there are more than
        `compact_over` (neighbours into objects of at most `merge_max` markers, so the
        latest marker of a URL still wins); `per_url`: whether per-URL markers exist
        (recorded in the merged objects). True when it compacted."""
        self.flush()
        with self._flush_lock:
            with self._lock:
                known = None if self._markers is None else len(self._objects)
                loaded = dict(self._markers) if self._markers is not None else None
                objects = set(self._objects)
            if known is not None and known <= self.compact_over:
                return False  # what this run read and wrote: no listing needed
            keys = [k for k in self.store.list(self._prefix()) if k.endswith(".json")]
            if len(keys) <= self.compact_over:
                return False
            if loaded is not None and set(keys) <= objects and len(loaded) <= self.merge_max:
                self._write_merged(list(keys), loaded, per_url)  # all of it is here
                return True
            merged_any = False
            group: list[str] = []
            markers: dict[str, dict[str, Any]] = {}
            for key in keys:
                value = _loads(self.store.get(key))
                if value is None:
                    continue  # compacted away by another process meanwhile
                found = value.get("markers")
                found = found if isinstance(found, dict) else {}
                if per_url is None and isinstance(value.get("per_url"), bool):
                    per_url = value["per_url"]
                if group and len(markers) + len(found) > self.merge_max:
                    merged_any = self._close_group(group, markers, per_url) or merged_any
                    group, markers = [], {}
                group.append(key)
                markers.update((d, m) for d, m in found.items() if isinstance(m, dict))
            if group:
                merged_any = self._close_group(group, markers, per_url) or merged_any
            with self._lock:
                self._objects = [k for k in self.store.list(self._prefix())
                                 if k.endswith(".json")] if merged_any else self._objects
            return merged_any

    def _close_group(self, group: list[str], markers: dict[str, dict[str, Any]],
                     per_url: bool | None) -> bool:
        if len(group) < 2:
            return False  # one object (a full one): left as it is
        self._write_merged(group, markers, per_url)
        return True

    def _write_merged(self, group: list[str], markers: dict[str, dict[str, Any]],
                      per_url: bool | None) -> None:
        body: dict[str, Any] = {"markers": markers}
        if per_url is not None:
            body["per_url"] = per_url
        # sorts right after the newest object it holds: batches written later win
        key = group[-1][:-len(".json")] + "-c.json"
        self.store.put(key, _dump(body), content_type=JSON)
        delete_all(self.store, [k for k in group if k != key])
        with self._lock:
            self._objects = [k for k in self._objects if k not in group] + [key]

    def _next_key(self) -> str:
        return state_key(self.site, FOLDER,
                         f"{self._name}-{next(self._seq):06d}-{self._writer}.json")


def _loads(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return {}  # unreadable: skipped, not taken for gone
    return value if isinstance(value, dict) else {}
