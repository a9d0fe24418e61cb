"""`GroupSync`: group commit of a local store's durable writes.

A local store normally fsyncs every file it writes, and its directory: two fsyncs per
object, each a journal commit of the filesystem. In group mode the store writes and
renames without fsync and notes what it wrote; a caller that needs those writes durable
asks for a barrier, and one syncer thread makes everything written so far durable at
once (`syncfs` of the store's filesystem on Linux, else an fsync of each noted file and
directory), then releases every caller that was waiting. Hundreds of writes share one
journal commit, and no caller's thread is held while it runs.

The harvester writes a record (and its files) in group mode, awaits a barrier, and only
then writes the URL's seen marker: a power loss can cost a refetch, never a record
marked harvested that is not on disk.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from harvester.exceptions import StoreError

SyncFn = Callable[[list[str]], None]


class GroupSync:
    """Barriers over the writes noted under `root`, served by one syncer thread.

    `sync` makes the noted paths durable (it is given the files and directories noted
    since the last sync); the default is `syncfs` of `root`'s filesystem where the
    platform has it, else an fsync of each path.
    """

    def __init__(self, root: Path, sync: SyncFn | None = None, *, linger: float = 0.01) -> None:
        self.root = root
        self.linger = linger  # a sync waits this long for more writers to join it
        self._sync = sync or _default_sync(root)
        self._cond = threading.Condition()
        self._noted: list[str] = []
        self._waiting: Future[None] | None = None  # the barrier of the next sync
        self._syncing: Future[None] | None = None  # the barrier of the sync running now
        self._thread: threading.Thread | None = None  # the syncer; a thread no longer
        # named here (after close) exits when it has nothing to do
        self.syncs = 0  # syncs done (for stats and tests)

    def note(self, *paths: str) -> None:
        """Record written paths (files, and directories whose entries changed)."""
        with self._cond:
            self._noted.extend(paths)

    def barrier(self) -> Future[None]:
        """A future done once everything noted before this call is durable (or failed
        with StoreError when the sync failed)."""
        with self._cond:
            if self._waiting is None:
                self._waiting = Future()
                self._start()
                self._cond.notify()
            return self._waiting

    def wait(self) -> None:
        """Blocking barrier: returns once everything noted so far is durable."""
        with self._cond:
            pending = bool(self._noted) or self._waiting is not None
            running = self._syncing
        if pending:
            self.barrier().result()
        elif running is not None:
            running.result()

    def close(self) -> None:
        """Make what was noted durable, then stop the syncer thread (a later barrier
        starts it again)."""
        self.wait()
        with self._cond:
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="store-sync", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                while self._waiting is None and self._thread is me:
                    self._cond.wait()
                if self._waiting is None:
                    return
            if self.linger > 0:
                time.sleep(self.linger)  # callers arriving meanwhile share this sync
            with self._cond:
                # the callers of this barrier wrote before asking: all of it is noted
                done, self._waiting = self._waiting, None
                paths, self._noted = self._noted, []
                self._syncing = done
            try:
                self._sync(paths)
            except OSError as exc:
                error: StoreError | None = StoreError(
                    f"local sync failed: {exc.strerror or exc}")
            else:
                error = None
            with self._cond:
                self._syncing = None
                self.syncs += 1
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(None)


def _default_sync(root: Path) -> SyncFn:
    syncfs = _syncfs()
    if syncfs is None:
        return fsync_each

    def sync_filesystem(paths: list[str]) -> None:
        if not paths:
            return
        fd = os.open(root, os.O_RDONLY)
        try:
            if syncfs(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err))
        finally:
            os.close(fd)

    return sync_filesystem


def fsync_each(paths: list[str]) -> None:
    """The portable sync: fsync every noted file and directory once."""
    for path in dict.fromkeys(paths):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # replaced or deleted since: its successor is noted
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs() -> Callable[[int], int] | None:
    """libc's syncfs(2) (Linux), or None. The call releases the GIL while it runs."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn
