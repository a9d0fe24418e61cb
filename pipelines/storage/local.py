"""`LocalStore`: the store layout in a local directory.

Writes are atomic: the bytes go to a temporary file in `<root>/.tmp/` (same
filesystem), are fsynced, then renamed over the key's path (`os.replace`), so a
reader sees the old object or the new one, never a half-written file. A
create-only write (`if_absent=True`) publishes the temporary file with
`os.link`, which fails when the path exists, so two processes never overwrite
each other. Files left in `.tmp/` by a crashed process are never listed or
read; `remove_stale_temp_files()` clears them.

In group mode (`start_group_sync`, used by harvest runs) a put does not fsync: it notes
what it wrote, and `durable()` / `sync()` make all of it durable at once (see
`groupsync.py`): one journal commit for many objects instead of two fsyncs per object.

The local store keeps no content type (the file name's suffix says it).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

from harvester.exceptions import StoreError, UnsafeKey
from harvester.keys import top_prefix
from pipelines.storage.base import RESERVED_SEGMENT, check_key, check_prefix
from pipelines.storage.groupsync import GroupSync, SyncFn

TMP_DIR = RESERVED_SEGMENT
# The harvester's own bookkeeping (markers, journals) is written atomically but not fsynced:
# after a power loss it can only be older than the records, which costs refetches, never a
# wrong record. Records, versions, files, captures and run reports are fsynced.
NO_FSYNC_PREFIXES = (top_prefix("state"),)


class LocalStore:
    """A Store over the directory `root` (created when missing)."""

    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root).expanduser().resolve()
        self.uri = self.root.as_uri()
        self._fsync = fsync
        self._tmp = self.root / TMP_DIR
        self._root_slash = f"{self.root}/"  # keys' paths are built as strings (pathlib's
        # joinpath cost ~9 us a put, a tenth of a stored record's CPU in a harvest)
        self._checked_dirs: set[str] = set()  # directories made and found inside the root
        self._dirs_lock = threading.Lock()
        self._group: GroupSync | None = None
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create local store at {self.root}: {_reason(exc)}") from exc

    @classmethod
    def from_uri(cls, uri: str) -> LocalStore:
        """A store for a plain path or a `file://` URI (host empty or localhost)."""
        if uri.startswith("file:"):
            parts = urlsplit(uri)
            if parts.netloc not in {"", "localhost"}:
                raise StoreError(f"file URI with a remote host is not supported: {uri}")
            return cls(Path(unquote(parts.path)))
        return cls(Path(uri))

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def start_group_sync(self, sync: SyncFn | None = None) -> GroupSync | None:
        """Switch to group commit: puts stop fsyncing and are made durable together by
        the returned GroupSync's barriers (`sync`: how, default syncfs). None when this
        store does not fsync at all."""
        if self._fsync and self._group is None:
            self._group = GroupSync(self.root, sync)
        return self._group

    def sync(self) -> None:
        """Blocking: everything put so far is durable (group mode; otherwise it is)."""
        if self._group is not None:
            self._group.wait()

    def put(
        self, key: str, data: bytes, *, content_type: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        return self._put(key, data, if_absent)

    def put_file(self, key: str, file: IO[bytes], *, content_type: str | None = None,
                 if_absent: bool = False) -> bool:
        """`put` of a binary file's bytes from its start, copied a block at a time (a
        100,000-record changes feed is not held in memory to be written)."""
        file.seek(0)
        return self._put(key, file, if_absent)

    def open_read(self, key: str) -> IO[bytes] | None:
        """The object opened for reading (the caller closes it), None when it does not
        exist: its bytes read as they are used, not all at once."""
        path = self._path(key)
        try:
            return open(path, "rb")  # noqa: SIM115 - the caller's to close
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise StoreError(f"local get {key} failed: {_reason(exc)}") from exc

    def _put(self, key: str, data: bytes | IO[bytes], if_absent: bool) -> bool:
        # No symbolic-link check here: os.replace and os.link never follow a link at the
        # destination (a link there is replaced, or makes a create-only write fail).
        path, parent = self._located(key, check_leaf=False)
        tmp_name: str | None = None
        sync = self._fsync and not key.startswith(NO_FSYNC_PREFIXES)
        group = self._group if sync else None
        if group is not None:
            sync = False  # made durable by the group's next sync
        try:
            self._make_parent(parent)
            tmp_name = self._write_temp(data, sync)
            if if_absent:
                try:
                    os.link(tmp_name, path)
                except FileExistsError:
                    return False
            else:
                os.replace(tmp_name, path)
                tmp_name = None
            if sync:
                self._sync_dir(parent)
            elif group is not None:
                group.note(path, parent)
            return True
        except OSError as exc:
            raise StoreError(f"local put {key} failed: {_reason(exc)}") from exc
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as file:
                return file.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise StoreError(f"local get {key} failed: {_reason(exc)}") from exc

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        directory, key_base, partial = self._listed_folder(prefix)
        yield from self._walk(directory, key_base, partial, top_level=not key_base)

    def list_unordered(self, prefix: str = "") -> Iterator[str]:
        """The keys `list` gives, in directory order: one folder entry at a time, none
        held (a folder of 100,000 records costs no list of its names)."""
        directory, key_base, partial = self._listed_folder(prefix)
        yield from self._scan(str(directory), key_base, partial, not key_base)

    def _listed_folder(self, prefix: str) -> tuple[Path, str, str]:
        """(the folder a listing of `prefix` reads, the key of that folder with its "/",
        the start its entries' names must have)."""
        check_prefix(prefix)
        base, _, partial = prefix.rpartition("/")
        directory = self.root.joinpath(*base.split("/")) if base else self.root
        if not _inside(directory, self.root):
            raise UnsafeKey(f"storage prefix leaves the store: {prefix!r}")
        return directory, base + "/" if base else "", partial

    def _scan(self, directory: str, key_base: str, partial: str, top_level: bool
              ) -> Iterator[str]:
        try:
            scan = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise StoreError(f"local list {key_base} failed: {_reason(exc)}") from exc
        with scan:
            for entry in scan:
                name = entry.name
                if not name.startswith(partial) or (top_level and name == TMP_DIR):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    yield from self._scan(entry.path, key_base + name + "/", "", False)
                elif entry.is_file(follow_symlinks=False):
                    yield key_base + name

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        except OSError as exc:
            raise StoreError(f"local delete {key} failed: {_reason(exc)}") from exc

    def close(self) -> None:
        """Make group-mode writes durable; otherwise nothing to release."""
        if self._group is not None:
            self._group.close()

    def remove_orphan_temp_files(self, older_than: float = 3600.0) -> int:
        """Delete temporary files left by killed writers: those of processes of this host
        that no longer run, and any older than `older_than` seconds. Returns how many."""
        removed = 0
        host = socket.gethostname()
        cutoff = time.time() - older_than
        with os.scandir(self._tmp) as entries:
            for entry in entries:
                owner = _temp_owner(entry.name)
                with contextlib.suppress(OSError):
                    dead = owner is not None and owner[0] == host.replace("-", "_") \
                        and not pid_alive(owner[1])
                    if entry.is_file(follow_symlinks=False) and (
                            dead or entry.stat().st_mtime < cutoff):
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def remove_stale_temp_files(self, older_than: float = 3600.0) -> int:
        """Delete temporary files older than `older_than` seconds; returns how many."""
        removed = 0
        cutoff = time.time() - older_than
        with os.scandir(self._tmp) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def _path(self, key: str, check_leaf: bool = True) -> str:
        return self._located(key, check_leaf)[0]

    def _located(self, key: str, check_leaf: bool = True) -> tuple[str, str]:
        """(the key's path, its folder's path), checked to stay inside the store."""
        check_key(key)  # non-empty segments, none "." or "..": the path is root + "/" + key
        path = self._root_slash + key
        # the key has no "..", so only a symbolic link could lead out: the parent directory is
        # resolved once (then cached), the leaf is checked on every call
        parent = path.rpartition("/")[0]
        if parent not in self._checked_dirs:
            if not _inside(Path(parent), self.root):
                raise UnsafeKey(f"storage key leaves the store: {key!r}")
            if os.path.isdir(parent):
                self._checked(parent)
        if check_leaf and os.path.islink(path):
            raise UnsafeKey(f"storage key leaves the store: {key!r}")
        return path, parent

    def _make_parent(self, parent: str) -> None:
        if parent in self._checked_dirs:
            return
        os.makedirs(parent, exist_ok=True)
        if not _inside(Path(parent), self.root):
            raise UnsafeKey(f"storage directory leaves the store: {parent}")
        self._checked(parent)

    def _checked(self, directory: str) -> None:
        # a cache, bounded: a backfill makes a folder per record under files/
        with self._dirs_lock:
            if len(self._checked_dirs) >= _CHECKED_DIRS_MAX:
                self._checked_dirs.clear()
            self._checked_dirs.add(directory)

    def _write_temp(self, data: bytes | IO[bytes], sync: bool = True) -> str:
        # raw os calls: each one releases the GIL, so the fewer the better for a crawl
        # running on the reactor thread meanwhile (mkstemp + fdopen cost twice as many)
        name = os.path.join(self._tmp, f"{_temp_prefix()}{next(_TEMP_NUMBERS)}.part")
        fd = os.open(name, _TEMP_FLAGS, 0o600)
        try:
            blocks = (data,) if isinstance(data, (bytes, bytearray, memoryview)) \
                else iter(lambda: data.read(COPY_BLOCK), b"")
            for block in blocks:
                view = memoryview(block)
                while view:
                    view = view[os.write(fd, view):]
            if sync:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        os.close(fd)
        return name

    def _sync_dir(self, directory: str) -> None:
        if not self._fsync:
            return
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _walk(self, directory: Path, key_base: str, partial: str, top_level: bool) -> Iterator[str]:
        """Keys below `directory` in lexical order, names filtered by `partial`.

        Sorting a folder's entries by name (files) and name + "/" (folders)
        yields the keys in the order a full sort of the key strings would.
        """
        try:
            with os.scandir(directory) as scan:
                entries = [
                    (entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name, entry)
                    for entry in scan
                    if entry.name.startswith(partial)
                    and not (top_level and entry.name == TMP_DIR)
                ]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise StoreError(f"local list {key_base} failed: {_reason(exc)}") from exc
        for sort_name, entry in sorted(entries, key=lambda pair: pair[0]):
            if sort_name.endswith("/"):
                yield from self._walk(Path(entry.path), key_base + sort_name, "", top_level=False)
            elif entry.is_file(follow_symlinks=False):
                yield key_base + entry.name


_CHECKED_DIRS_MAX = 2048
COPY_BLOCK = 1 << 20  # bytes copied at a time by put_file
_PREFIX: list[str] = []  # this process's temp-file prefix, drawn on first use


def _forget_prefix() -> None:
    _PREFIX.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_prefix)  # a fork draws its own

_TEMP_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0))


_TEMP_NUMBERS = itertools.count()  # a temp file's number in its process


def _temp_prefix() -> str:
    """put-<host>-<pid>-<random>.: whose temp file it is (see remove_orphan_temp_files);
    the random part, drawn once a process, keeps a process that got a dead one's pid off
    the files that one left (numbered from 0 as well). Computed once per process: a fork
    forgets its parent's (os.register_at_fork), so no getpid call per file."""
    if not _PREFIX:
        pid = os.getpid()
        _PREFIX.append(f"put-{socket.gethostname().replace('-', '_')}-{pid}-"
                       f"{secrets.token_hex(6)}.")
    return _PREFIX[0]


def _temp_owner(name: str) -> tuple[str, int] | None:
    """(host, pid) of a temp file named by _temp_prefix, else None."""
    parts = name.split("-", 3)
    if len(parts) < 4 or parts[0] != "put" or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine has that pid (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
