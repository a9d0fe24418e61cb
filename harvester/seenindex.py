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
- `compact()` (at the end of a run) merges the objects into one when there are more than
  `compact_over`, then deletes the ones it merged (a batch written meanwhile is kept).
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
                 compact_over: int = 2) -> None:
        self.store = store
        self.site = site
        self.batch_size = batch_size
        self.compact_over = compact_over
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
                self._objects = read + self._objects
            return self._markers

    def get(self, digest: str) -> dict[str, Any] | None:
        return self._load().get(digest)

    def per_url_markers(self) -> bool | None:
        """What the latest compacted object said: whether per-URL markers exist (None:
        no compacted object said, look)."""
        self._load()
        return self._per_url

    def markers(self) -> Iterator[dict[str, Any]]:
        yield from list(self._load().values())

    def digests(self) -> set[str]:
        return set(self._load())

    # --- writing ----------------------------------------------------------------------
    def add(self, digest: str, marker: dict[str, Any]) -> None:
        """Blocking only when the batch is full (it is written then)."""
        markers = self._load()
        with self._lock:
            markers[digest] = marker
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
        """Blocking, at the end of a run: merge the batch objects into one when there are
        more than `compact_over`; `per_url`: whether per-URL markers exist (recorded in the
        merged object). True when it compacted."""
        self.flush()
        with self._flush_lock:
            with self._lock:
                known = None if self._markers is None else len(self._objects)
            if known is not None and known <= self.compact_over:
                return False  # what this run read and wrote: no listing needed
            keys = [k for k in self.store.list(self._prefix()) if k.endswith(".json")]
            if len(keys) <= self.compact_over:
                return False
            merged: dict[str, dict[str, Any]] = {}
            read: list[str] = []
            with self._lock:
                if self._markers is not None and set(keys) <= set(self._objects):
                    merged, read = dict(self._markers), list(keys)  # all of it is here
            for key in keys if not read else []:
                value = _loads(self.store.get(key))
                if value is None:
                    continue
                read.append(key)
                found = value.get("markers")
                if isinstance(found, dict):
                    merged.update((d, m) for d, m in found.items() if isinstance(m, dict))
                if per_url is None and isinstance(value.get("per_url"), bool):
                    per_url = value["per_url"]
            body: dict[str, Any] = {"markers": merged}
            if per_url is not None:
                body["per_url"] = per_url
            # sorts right after the newest object it holds: batches written later win
            key = read[-1][:-len(".json")] + "-c.json"
            self.store.put(key, _dump(body), content_type=JSON)
            delete_all(self.store, [k for k in read if k != key])
            with self._lock:
                self._objects = [key]
            return True

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
