"""SeenIndex: seen markers kept in a few batch objects instead of one object per URL.

On a remote store (S3) a marker per document is a PUT per stored document and a GET per
listed one. Batched, a run reads every marker of the site once (a listing and a GET per
batch object, a few in all once compacted), and writes the markers it makes in batches:

    state/<site>/seen-batch/<name>.json   {"markers": {<url digest>: <marker>, ...},
                                           "per_url": <bool, compacted objects only>}

- Names sort in the order the batches were written (`<run id>-<sequence>`); a marker in
  a later object wins over one in an earlier object.
- `flush()` writes the pending markers as one object; with `rolling` (remote stores: a
  request costs more than its bytes) into the object this index is filling instead: the
  first flush of a run creates it, later ones write it again with every marker it holds so
  far (one PUT, no new object), until it holds `batch_size` markers; the next flush starts
  the next object. So a run of up to `batch_size` documents leaves one object, however often
  it flushed, and nothing needs merging after it. The state calls it before it saves a walk's
  cursor (so the cursor never passes documents whose markers are not in the store), at its
  checkpoints and at the end of the run. A run killed in between loses the markers made
  since the last flush at most: those documents are fetched again and found unchanged (the
  create-only write of the record decides).
- A backfill campaign's resume cursor may travel in the same objects (`set_resume`:
  `"resume": {"campaign": <id>, "cursor": <the source's cursor>}` in every object written
  after it), so a checkpoint is one PUT carrying both the markers and the cursor they
  allow: the cursor can never be in the store without the markers of the documents it
  passed. `resume_of(campaign)` reads it back: the newest object that carries one (from the
  loaded index, else from the newest objects first, without loading the rest).
- A rolling index that read the objects (a run that looks markers up) and holds at most
  `merge_max` markers writes its first object with every marker it holds and then deletes
  the objects it read (one DeleteObjects): one PUT, as its own object alone would be, so
  the store keeps one object and the next run reads one, not one more per run that stored
  something. Objects written meanwhile by other processes are not deleted (it never read
  them); this object sorts after those it replaced, so nothing older wins over it.
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

import contextlib
import itertools
import json
import secrets
import threading
from collections.abc import Callable, Iterator
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
                 compact_over: int = 2, merge_max: int = 20000) -> None:
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
        self.rolling = False  # flushes write the object being filled again (remote stores)
        self._current_key: str | None = None  # the object this index fills (None: a new one)
        self._current: dict[str, dict[str, Any]] = {}  # the markers written to it so far
        self._resume: dict[str, Any] | None = None  # the cursor this index carries (set_resume)
        self._resume_dirty = False  # set since the last flush
        self._newest_resume: dict[str, Any] | None = None  # the store's newest, as loaded
        self._resume_read = False  # _newest_resume was loaded
        self._resume_peeks: dict[str, dict[str, Any] | None] = {}  # campaign -> as peeked
        # a newest-first look at the objects (listing, bodies read), reused by the first
        # full load unless this index wrote meanwhile
        self._peeked: tuple[list[str], dict[str, dict[str, Any] | None]] | None = None
        # whether per-URL markers exist, as the state found out: recorded in each batch
        self.per_url_note: bool | None = None
        # the batch objects' keys as a listing made at the run's start saw them (the
        # state's; None: list them), used until this index writes
        self.listed: Callable[[], list[str] | None] | None = None
        self._wrote = False
        self._own: set[str] = set()  # the objects this index wrote

    # --- reading ----------------------------------------------------------------------
    def _prefix(self) -> str:
        return state_prefix(self.site, FOLDER)

    def _keys(self, fresh: bool = False) -> list[str]:
        """The batch objects' keys, in name order: from the state's listing (`listed`, one
        listing of state/<site>/ for the run's start) until this index writes, else listed."""
        given = None
        if not fresh and self.listed is not None:
            with self._lock:
                wrote = self._wrote
            given = None if wrote else self.listed()
        keys = given if given is not None else self.store.list(self._prefix())
        return [k for k in keys if k.endswith(".json")]

    def _load(self) -> dict[str, dict[str, Any]]:
        """Blocking, once: every marker of the batch objects."""
        with self._lock:
            if self._markers is not None:
                return self._markers
        # no batch is written while the objects are read: markers that a flush moves from
        # pending into an object after the listing would be in neither
        with self._flush_lock:
            return self._load_objects()

    def _load_objects(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            if self._markers is not None:
                return self._markers
            peeked, self._peeked = self._peeked, None
        markers: dict[str, dict[str, Any]] = {}
        per_url: bool | None = None
        resume: dict[str, Any] | None = None
        read: list[str] = []
        for attempt in (1, 2):
            # the newest-first look of a moment ago, if this index wrote nothing since
            keys, known = peeked if peeked is not None and attempt == 1 \
                else (self._keys(fresh=attempt == 2), {})
            markers, per_url, resume, read, vanished = {}, None, None, [], False
            for key in keys:
                value = known[key] if key in known else _loads(self.store.get(key))
                if value is None:
                    vanished = True  # compacted away since the listing
                    continue
                read.append(key)
                found = value.get("markers")
                if isinstance(found, dict):
                    markers.update((d, m) for d, m in found.items() if isinstance(m, dict))
                if isinstance(value.get("per_url"), bool):
                    per_url = value["per_url"]  # the latest compacted object's word
                if isinstance(value.get("resume"), dict):
                    resume = value["resume"]
            if not vanished or attempt == 2:
                break
        with self._lock:
            if self._markers is None:
                markers.update(self._current)  # written by this index (listed or not)
                markers.update(self._pending)  # marked before the first read
                self._markers, self._per_url = markers, per_url
                self._newest_resume, self._resume_read = resume, True
                self._objects = list(dict.fromkeys(read + self._objects))
            return self._markers

    def get(self, digest: str) -> dict[str, Any] | None:
        return self._load().get(digest)

    def _peek(self, wanted: str, since: str | None = None) -> Any:
        """Blocking: the value of `wanted` ("per_url", "resume") in the newest object that
        has one (None: none has), reading the newest objects first; with `since` (a run id),
        the newest object only, and none whose name sorts before it (written before that run
        began; a merged object sorts with the newest it holds). What it listed and read is
        kept for the first full load."""
        with self._lock:
            peeked = self._peeked
        keys, known = peeked if peeked is not None else (self._keys(), {})
        found = None
        for key in reversed(keys):
            if since is not None and key.rsplit("/", 1)[-1] < since:
                break
            if key not in known:
                known[key] = _loads(self.store.get(key))
            value = known[key]
            if value is None:
                continue  # compacted away since the listing
            if value.get(wanted) is not None or since is not None:
                found = value.get(wanted)
                break
        with self._lock:
            if self._markers is None and (peeked is None or self._peeked is peeked):
                self._peeked = (keys, known)
        return found

    def per_url_markers(self) -> bool | None:
        """What the latest object that says it said: whether per-URL markers exist (None:
        none said, look). Read from the loaded index, or else from the newest objects
        first, without loading the rest."""
        with self._lock:
            if self._markers is not None:
                return self._per_url
        found = self._peek("per_url")
        return found if isinstance(found, bool) else None

    def resume_of(self, campaign: str) -> tuple[bool, Any]:
        """(found, cursor): the resume cursor of `campaign` in the store: this index's own
        once it set one, else the newest object's that carries one (the loaded index), else
        the newest object's (a run of the campaign writes it into every object: `set_resume`,
        `adopt_resume`); (False, None) when it carries none of the campaign (backfill.json
        then says)."""
        with self._lock:
            resume = self._resume
            if resume is None and self._resume_read:
                resume = self._newest_resume
            read = resume is not None or self._resume_read or campaign in self._resume_peeks
            if resume is None:
                resume = self._resume_peeks.get(campaign)
        if not read:  # a campaign's id is the id of the run that began it
            found = self._peek("resume", since=campaign)
            resume = found if isinstance(found, dict) else None
            with self._lock:
                self._resume_peeks[campaign] = resume
        if resume is None or resume.get("campaign") != campaign:
            return False, None
        return True, resume.get("cursor")

    def markers(self) -> Iterator[dict[str, Any]]:
        yield from list(self._load().values())

    def digests(self) -> set[str]:
        return set(self._load())

    # --- writing ----------------------------------------------------------------------
    def add(self, digest: str, marker: dict[str, Any]) -> None:
        """Blocking only when the object being filled is full (it is written then). The
        index is not read for it (a read later sees the pending markers)."""
        with self._lock:
            if self._markers is not None:
                self._markers[digest] = marker
            self._pending[digest] = marker
            full = len(self._pending) + len(self._current) >= self.batch_size
        if full:
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def set_resume(self, campaign: str, cursor: Any) -> None:
        """The campaign's resume cursor: carried by the objects this index writes from its
        next flush on (the markers it holds then are written in the same object)."""
        value = {"campaign": campaign, "cursor": cursor}
        with self._lock:
            if value != self._resume:
                self._resume, self._resume_dirty = value, True

    def adopt_resume(self, campaign: str, cursor: Any) -> None:
        """The campaign's cursor as the store holds it: carried by the objects this index
        writes (nothing is written for it), until `set_resume` moves it."""
        with self._lock:
            if self._resume is None:
                self._resume = {"campaign": campaign, "cursor": cursor}

    def carries_resume(self) -> bool:
        with self._lock:
            return self._resume is not None

    def flush(self) -> None:
        """Blocking: the pending markers (and the cursor, when it changed) in the store, in
        the object being filled (nothing when there is nothing new)."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
                resume, dirty, self._resume_dirty = self._resume, self._resume_dirty, False
                key, current = self._current_key, self._current
            if not batch and not dirty:
                return
            absorbed: list[str] = []
            if self.rolling and key is None:  # the run's first object (or after a full one)
                absorbed, whole = self._absorbing()
                if absorbed:
                    current = whole  # every marker: the objects read are deleted after it
                    resume = resume if resume is not None else self._newest_resume
            key = (key if self.rolling else None) or self._next_key()
            markers = current | batch if self.rolling else batch
            body: dict[str, Any] = {"markers": markers}
            per_url = self.per_url_note if self.per_url_note is not None else self._per_url
            if per_url is not None and (absorbed or self.per_url_note is not None):
                body["per_url"] = per_url
            if resume is not None:
                body["resume"] = resume
            try:
                self.store.put(key, _dump(body), content_type=JSON)
            except StoreError:
                with self._lock:  # written by the next flush; newer markers stay newer
                    self._pending = batch | self._pending
                    self._resume_dirty = self._resume_dirty or dirty
                raise
            with self._lock:
                self._wrote = True  # a listing made before no longer shows every object
                self._own.add(key)
                self._peeked = None  # the listing it holds no longer shows every object
                self._objects = [k for k in self._objects if k not in absorbed]
                if key not in self._objects:
                    self._objects.append(key)
                if not self.rolling or len(markers) >= self.batch_size:  # full: the next
                    self._current_key, self._current = None, {}  # flush starts another
                else:
                    self._current_key, self._current = key, markers
            if absorbed:  # left in place on failure: the new object's markers win anyway
                with contextlib.suppress(StoreError):
                    delete_all(self.store, absorbed)

    def _absorbing(self) -> tuple[list[str], dict[str, dict[str, Any]]]:
        """The objects this index read (not its own) and every marker it holds, when its
        next object can hold them all (at most `merge_max`): that object then replaces
        them (one PUT, as the object alone would be, and a DeleteObjects), so the next run
        reads one object instead of one more per run that stored something. Empty when
        the index is not loaded (a run that only writes markers) or read nothing."""
        with self._lock:
            if self._markers is None or len(self._markers) > self.merge_max:
                return [], {}
            read = [k for k in self._objects if k not in self._own]
            return (read, dict(self._markers)) if read else ([], {})

    def compact(self, per_url: bool | None = None) -> bool:
        """Blocking, at the end of a run: merge the batch objects when there are more than
        `compact_over` (neighbours into objects of at most `merge_max` markers, so the
        latest marker of a URL still wins, and the latest cursor); `per_url`: whether
        per-URL markers exist (recorded in the merged objects). True when it compacted."""
        self.flush()
        with self._flush_lock:
            with self._lock:
                known = None if self._markers is None else len(self._objects)
                loaded = dict(self._markers) if self._markers is not None else None
                objects = set(self._objects)
                resume = self._resume if self._resume is not None else self._newest_resume
            if known is not None and known <= self.compact_over:
                return False  # what this run read and wrote: no listing needed
            keys = self._keys(fresh=True)
            if len(keys) <= self.compact_over:
                return False
            if loaded is not None and set(keys) <= objects and len(loaded) <= self.merge_max:
                self._write_merged(list(keys), loaded, per_url, resume)  # all of it is here
                return True
            merged_any = False
            group: list[str] = []
            markers: dict[str, dict[str, Any]] = {}
            resume = None
            for key in keys:
                value = _loads(self.store.get(key))
                if value is None:
                    continue  # compacted away by another process meanwhile
                found = value.get("markers")
                found = found if isinstance(found, dict) else {}
                if per_url is None and isinstance(value.get("per_url"), bool):
                    per_url = value["per_url"]
                if group and len(markers) + len(found) > self.merge_max:
                    merged_any = self._close_group(group, markers, per_url,
                                                   resume) or merged_any
                    group, markers, resume = [], {}, None
                group.append(key)
                markers.update((d, m) for d, m in found.items() if isinstance(m, dict))
                if isinstance(value.get("resume"), dict):
                    resume = value["resume"]  # the group's latest
            if group:
                merged_any = self._close_group(group, markers, per_url, resume) or merged_any
            with self._lock:
                self._objects = self._keys(fresh=True) if merged_any else self._objects
            return merged_any

    def _close_group(self, group: list[str], markers: dict[str, dict[str, Any]],
                     per_url: bool | None, resume: dict[str, Any] | None) -> bool:
        if len(group) < 2:
            return False  # one object (a full one): left as it is
        self._write_merged(group, markers, per_url, resume)
        return True

    def _write_merged(self, group: list[str], markers: dict[str, dict[str, Any]],
                      per_url: bool | None, resume: dict[str, Any] | None) -> None:
        body: dict[str, Any] = {"markers": markers}
        if per_url is not None:
            body["per_url"] = per_url
        if resume is not None:
            body["resume"] = resume
        # sorts right after the newest object it holds: batches written later win
        key = group[-1][:-len(".json")] + "-c.json"
        self.store.put(key, _dump(body), content_type=JSON)
        delete_all(self.store, [k for k in group if k != key])
        with self._lock:
            self._objects = [k for k in self._objects if k not in group] + [key]
            if self._current_key in group:  # merged away: a later flush starts another
                self._current_key, self._current = None, {}

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
