"""WARC files a killed run left on local disk, stored by the next run of the same site and store.

A run writes its captures to `<tmp>/archive-harvester-warc/<site>-<store tag>/<run id>-<pid>/`
and stores each file once it rolls (WarcCapture). A run that dies (SIGKILL, a crash, the
machine's power) leaves the file it was writing there, and a file whose upload failed stays
too. The next run of the same site into the same store (the tag is a hash of the store's
URI) takes the folders of processes that are no longer alive: each file's complete records
are kept (every WARC record is a gzip member of its own; a member the kill cut off is dropped,
with anything after it), stored under `raw/<site>/` by the file's own name (a name stored
already with the same bytes was stored before the kill: not stored twice; other bytes under
that name: stored with a suffix), and the folder is removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvester.exceptions import HarvesterError
from harvester.keys import raw_key
from pipelines.storage.local import pid_alive

log = logging.getLogger(__name__)

_CHUNK = 1 << 16  # compressed bytes fed to zlib at a time while finding members' ends


def store_tag(uri: str) -> str:
    """A short stable name for a store (its URI hashed): leftovers go back to their store."""
    return hashlib.sha1(uri.encode("utf-8")).hexdigest()[:10]


def complete_length(data: bytes) -> int:
    """How many leading bytes of `data` are whole gzip members holding WARC records (0 when
    the first is no WARC record): where a file cut off mid-record is cut back to."""
    view = memoryview(data)
    pos, good, size = 0, 0, len(data)
    while pos < size:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        first = b""
        try:
            while not member.eof and pos < size:
                chunk = view[pos:pos + _CHUNK]
                out = member.decompress(chunk)
                if len(first) < 5:
                    first += out[:5]
                pos += len(chunk) - len(member.unused_data) if member.eof else len(chunk)
        except zlib.error:
            return good
        if not member.eof or (good == 0 and not first.startswith(b"WARC/")):
            return good
        good = pos
    return good


@dataclass
class Recovered:
    files: int = 0  # files stored
    records_bytes: int = 0  # bytes of whole records stored
    dropped_bytes: int = 0  # bytes of cut-off records dropped
    already_stored: int = 0  # files found stored before the kill


def _pid_of(folder: Path) -> int | None:
    tail = folder.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def recover(parent: Path, own: Path, store: Any, site: str) -> Recovered:
    """Store the WARC files in `parent`'s folders of dead processes (not `own`, this run's)
    under raw/<site>/, then remove those folders."""
    done = Recovered()
    try:
        folders = sorted(p for p in parent.iterdir() if p.is_dir() and p != own)
    except FileNotFoundError:
        return done
    for folder in folders:
        pid = _pid_of(folder)
        if pid is None or pid == os.getpid() or pid_alive(pid):
            continue
        kept = False
        for path in sorted(folder.glob("*.warc.gz")):
            try:
                kept |= not _store_one(path, store, site, done)
            except (OSError, HarvesterError) as exc:  # kept for the next run
                log.error("a killed run's WARC file %s could not be stored (kept): %s",
                          path, exc)
                kept = True
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
    if done.files or done.already_stored:
        log.warning("stored %d WARC file(s) a killed run left in %s (%d bytes of records; "
                    "%d bytes of a record cut off dropped; %d stored before the kill)",
                    done.files, parent, done.records_bytes, done.dropped_bytes,
                    done.already_stored)
    return done


def _store_one(path: Path, store: Any, site: str, done: Recovered) -> bool:
    """True when the file is dealt with (stored, stored before, or nothing whole in it)."""
    data = path.read_bytes()
    whole = complete_length(data)
    done.dropped_bytes += len(data) - whole
    if whole:
        body = data[:whole]
        key = raw_key(site, path.name)
        if not store.put(key, body, content_type="application/warc", if_absent=True):
            if store.get(key) == body:
                done.already_stored += 1
                path.unlink(missing_ok=True)
                return True
            key = raw_key(site, path.name.replace(".warc.gz",
                                                  f"-{secrets.token_hex(3)}.warc.gz"))
            store.put(key, body, content_type="application/warc")
        done.files += 1
        done.records_bytes += whole
    path.unlink(missing_ok=True)
    return True
