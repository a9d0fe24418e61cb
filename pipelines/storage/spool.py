"""`SpoolingStore`: a Store that keeps the writes its inner store refused, and replays them.

A put goes to the inner store; when that fails (StoreError, after the inner
store's own retries) the object is written durably to a local spool
directory instead and the put counts as done (`spooled`). `flush()` replays
the spool into the inner store in the order the writes were made, removing
each entry only after the inner store took it; it is safe (and meant) to be
called at the start of every run.

Spool layout, under `spool_dir` (atomic writes through a LocalStore):

    entries/<id>.data    the object's bytes
    entries/<id>.json    {"key", "content_type", "if_absent", "size", "sha256", "spooled_at"}
    corrupt/<id>.json    entries that could not be replayed (bad bytes or key), set aside
    .lock                held (flock) while a flush runs, so one process flushes at a time

An entry exists once its `.json` is there (written after the bytes). Ids
sort in the order of the writes. Replay is at-least-once: a crash between
the inner write and the entry's removal replays that entry again (same
bytes; a create-only entry then finds the object and is skipped).

While the inner store is failing, the store does not wait on it for every
call: for `cooldown` seconds after a failure, puts go straight to the spool
and reads of objects not in the spool raise StoreError at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import heapq
import itertools
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from harvester.exceptions import StoreError, UnsafeKey
from pipelines.storage.base import (
    Store,
    check_key,
    check_prefix,
    content_type_for,
    delete_all,
    put_file,
)
from pipelines.storage.local import LocalStore

log = logging.getLogger(__name__)

_ENTRIES = "entries/"


@dataclass(frozen=True)
class _Entry:
    id: str
    key: str
    content_type: str
    if_absent: bool
    size: int
    sha256: str

    @property
    def meta_key(self) -> str:
        return f"{_ENTRIES}{self.id}.json"

    @property
    def data_key(self) -> str:
        return f"{_ENTRIES}{self.id}.data"


_Entries = list[_Entry]


class SpoolingStore:
    """Wraps `inner`; writes it refuses are kept under `spool_dir` until `flush()`."""

    def __init__(self, inner: Store, spool_dir: Path | str, *, cooldown: float = 30.0) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.spool_dir = Path(spool_dir)
        self.cooldown = cooldown
        self.spooled = 0  # puts this object wrote to the spool
        self.flushed = 0  # spooled writes replayed into the inner store
        self.skipped = 0  # spooled create-only writes the inner store already had
        self.corrupt = 0  # spooled entries set aside as unreadable
        self._spool = LocalStore(self.spool_dir)
        self._lock = threading.Lock()  # guards _by_key and _down_until
        self._flush_lock = threading.Lock()
        self._by_key: dict[str, _Entries] = {}
        self._down_until = 0.0
        self._seq = itertools.count()
        # with the pid, tells this process from others sharing the spool (in containers,
        # processes on several hosts are often all pid 1)
        self._writer = secrets.token_hex(4)
        for entry in self._scan():
            self._by_key.setdefault(entry.key, []).append(entry)

    def __repr__(self) -> str:
        return f"SpoolingStore({self.inner!r}, {str(self.spool_dir)!r})"

    # The five Store operations.

    def put(
        self, key: str, data: bytes, *, content_type: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        check_key(key)
        content_type = content_type or content_type_for(key)
        with self._lock:
            pending = bool(self._by_key.get(key))
        if pending and if_absent:
            return False
        if not pending and self._inner_available():
            try:
                return self.inner.put(key, data, content_type=content_type, if_absent=if_absent)
            except StoreError as exc:
                self._mark_down(exc)
        # Spooled: the inner store failed, or earlier writes of this key wait in the spool
        # (this one must not overtake them).
        self._append(key, data, content_type, if_absent)
        return True

    def put_file(self, key: str, file: IO[bytes], *, content_type: str | None = None,
                 if_absent: bool = False) -> bool:
        """`put` of a file's content: copied by an inner store that can (pipelines/storage/
        base.put_file), read whole only when it goes to the spool."""
        check_key(key)
        content_type = content_type or content_type_for(key)
        with self._lock:
            pending = bool(self._by_key.get(key))
        if not pending and self._inner_available():
            try:
                return put_file(self.inner, key, file, content_type=content_type,
                                if_absent=if_absent)
            except StoreError as exc:
                self._mark_down(exc)
        file.seek(0)
        return self.put(key, file.read(), content_type=content_type, if_absent=if_absent)

    def get(self, key: str) -> bytes | None:
        check_key(key)
        entry = self._latest(key)
        if entry is not None and not entry.if_absent:
            return self._spool.get(entry.data_key)
        if entry is not None:  # create-only: the inner store's object wins when there is one
            try:
                found = self._inner_get(key)
            except StoreError:
                found = None
            return found if found is not None else self._spool.get(entry.data_key)
        return self._inner_get(key)

    def exists(self, key: str) -> bool:
        check_key(key)
        if self._latest(key) is not None:
            return True
        self._check_available()
        try:
            return self.inner.exists(key)
        except StoreError as exc:
            self._mark_down(exc)
            raise

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        yield from self._merged(prefix, self.inner.list(prefix), "")

    def list_after(self, prefix: str, start_after: str,
                   meta: dict[str, tuple[str, str]] | None = None) -> Iterator[str] | None:
        """Keys under `prefix` after `start_after` (spooled ones too), in lexical order;
        None when the inner store cannot list from a key (a local store: list folders).
        `meta`: each key's (ETag, LastModified) as the inner store listed it (none for a
        spooled key: the store does not hold what it will)."""
        lister = getattr(self.inner, "list_after", None)
        if lister is None:
            return None
        check_prefix(prefix)
        return self._merged(prefix, lister(prefix, start_after, meta), start_after, meta)

    def _merged(self, prefix: str, listed: Iterator[str], after: str,
                meta: dict[str, tuple[str, str]] | None = None) -> Iterator[str]:
        with self._lock:
            spooled = sorted(k for k, entries in self._by_key.items()
                             if entries and k.startswith(prefix) and k > after)
        self._check_available()
        last = None
        for key in heapq.merge(listed, spooled):
            if meta is not None and key in spooled:
                meta.pop(key, None)
            if key != last:
                yield key
            last = key

    def delete(self, key: str) -> None:
        check_key(key)
        with self._flush_lock:  # no flush may replay a write of this key after the delete
            with self._lock:
                entries = self._by_key.pop(key, [])
            for entry in entries:
                self._remove(entry)
            self.inner.delete(key)

    def delete_many(self, keys: Sequence[str]) -> None:
        """`delete` of every key, in batches where the inner store can."""
        for key in keys:
            check_key(key)
        with self._flush_lock:
            for key in keys:
                with self._lock:
                    entries = self._by_key.pop(key, [])
                for entry in entries:
                    self._remove(entry)
            delete_all(self.inner, keys)

    def sync(self) -> None:
        """Blocking: what the inner store took so far is durable (a local store in group
        mode syncs; the other stores are durable on return already)."""
        sync = getattr(self.inner, "sync", None)
        if callable(sync):
            sync()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    # The spool.

    def pending(self) -> int:
        """How many writes wait in the spool (in this directory, from any process)."""
        return sum(1 for key in self._spool.list(_ENTRIES) if key.endswith(".json"))

    def flush(self) -> tuple[int, int]:
        """Replay spooled writes into the inner store, oldest first: (written, still_pending).

        Stops at the first write the inner store refuses (the rest keep their order).
        When another process is flushing the same spool, does nothing.
        """
        with self._flush_lock, _exclusive(self.spool_dir / ".lock") as locked:
            if not locked:
                return 0, self.pending()
            written = 0
            for entry in self._scan():
                try:
                    done = self._replay(entry)
                except StoreError as exc:
                    self._mark_down(exc)
                    break
                if done is None:
                    continue
                written += done
                self._forget(entry)
                self._remove(entry)
            if written:
                log.info("%s: %d spooled write(s) replayed from %s", self.uri, written,
                         self.spool_dir)
            return written, self.pending()

    def _replay(self, entry: _Entry) -> int | None:
        """1 when written, 0 when a create-only write found the object, None when set aside."""
        data = self._spool.get(entry.data_key)
        if data is None or hashlib.sha256(data).hexdigest() != entry.sha256:
            self._set_aside(entry, "spooled bytes missing or damaged")
            return None
        try:
            wrote = self.inner.put(entry.key, data, content_type=entry.content_type,
                                   if_absent=entry.if_absent)
        except UnsafeKey:
            self._set_aside(entry, "unsafe key")
            return None
        with self._lock:
            self._down_until = 0.0
        if wrote:
            self.flushed += 1
            return 1
        self.skipped += 1
        return 0

    def _append(self, key: str, data: bytes, content_type: str, if_absent: bool) -> None:
        entry = _Entry(
            id=f"{time.time_ns():020d}-{os.getpid():07d}-{self._writer}-{next(self._seq):09d}",
            key=key, content_type=content_type, if_absent=if_absent, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        meta = {
            "key": key, "content_type": content_type, "if_absent": if_absent,
            "size": entry.size, "sha256": entry.sha256,
            "spooled_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._spool.put(entry.data_key, data)
        self._spool.put(entry.meta_key, json.dumps(meta, sort_keys=True).encode())
        with self._lock:
            self._by_key.setdefault(key, []).append(entry)
            self.spooled += 1

    def _scan(self) -> _Entries:
        entries = []
        for name in self._spool.list(_ENTRIES):
            if not name.endswith(".json"):
                continue
            entry_id = name[len(_ENTRIES):-len(".json")]
            raw = self._spool.get(name)
            try:
                meta: dict[str, Any] = json.loads(raw or b"")
                entry = _Entry(entry_id, check_key(meta["key"]), str(meta["content_type"]),
                               bool(meta["if_absent"]), int(meta["size"]), str(meta["sha256"]))
            except (ValueError, KeyError, TypeError, UnsafeKey):
                log.error("%s: unreadable spool entry %s set aside", self.spool_dir, name)
                self._spool.put(f"corrupt/{entry_id}.json", raw or b"")
                self._spool.delete(name)
                self.corrupt += 1
                continue
            entries.append(entry)
        return entries

    def _set_aside(self, entry: _Entry, reason: str) -> None:
        log.error("%s: spooled write of %s set aside: %s", self.spool_dir, entry.key, reason)
        self._spool.put(f"corrupt/{entry.id}.json", json.dumps(
            {"key": entry.key, "reason": reason, "sha256": entry.sha256}).encode())
        self._forget(entry)
        self._remove(entry)
        self.corrupt += 1

    def _remove(self, entry: _Entry) -> None:
        self._spool.delete(entry.meta_key)  # the entry ends here; the bytes follow
        self._spool.delete(entry.data_key)

    def _forget(self, entry: _Entry) -> None:
        with self._lock:
            entries = self._by_key.get(entry.key, [])
            with contextlib.suppress(ValueError):
                entries.remove(entry)
            if not entries:
                self._by_key.pop(entry.key, None)

    def _latest(self, key: str) -> _Entry | None:
        with self._lock:
            entries = self._by_key.get(key)
            return entries[-1] if entries else None

    # The inner store's health.

    def _inner_get(self, key: str) -> bytes | None:
        self._check_available()
        try:
            return self.inner.get(key)
        except StoreError as exc:
            self._mark_down(exc)
            raise

    def _inner_available(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._down_until

    def _check_available(self) -> None:
        if not self._inner_available():
            raise StoreError(f"{self.uri} is unavailable (writes are being spooled)")

    def _mark_down(self, exc: StoreError) -> None:
        with self._lock:
            was_up = time.monotonic() >= self._down_until
            self._down_until = time.monotonic() + self.cooldown
        if was_up:
            log.warning("%s failing (%s); spooling writes to %s", self.uri, exc, self.spool_dir)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    """Hold an exclusive flock on `path` when it is free: yields whether it was taken."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
