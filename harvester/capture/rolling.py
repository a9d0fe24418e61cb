"""`RollingWarcFile`: WARC records written gzip-per-record to a local file, rolled by size.

A fetch's records (response/revisit + request) always go into one file; once the
file reaches `max_bytes` it is closed and handed to `on_roll(path, seq)`, and the
next fetch starts file seq + 1 (with its own warcinfo record). Files are named
by the caller (`name_for(seq)`); this class knows nothing about the store.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from warcio.warcwriter import WARCWriter

from harvester.capture.records import WARC_VERSION, builder, warcinfo_record


class RollingWarcFile:
    def __init__(self, folder: Path, name_for: Callable[[int], str], max_bytes: int,
                 on_roll: Callable[[Path, int], None], info: dict[str, str],
                 gzip_level: int = 6) -> None:
        self.folder = folder
        self.gzip_level = gzip_level
        self.name_for = name_for
        self.max_bytes = max(1, max_bytes)
        self.on_roll = on_roll
        self.info = info
        self.seq = 0
        self._file: IO[bytes] | None = None
        self._writer: WARCWriter | None = None
        self._path: Path | None = None

    @property
    def current_name(self) -> str:
        """The name of the file the next records go into."""
        return self.name_for(self.seq)

    def write(self, records: Sequence[Any]) -> None:
        """Write one fetch's records, then roll when the file reached the size limit."""
        writer = self._writer or self._open()
        for record in records:
            writer.write_record(record)
        assert self._file is not None
        if self._file.tell() >= self.max_bytes:
            self.roll()

    def write_bytes(self, data: bytes) -> None:
        """Append records already serialised (gzip members), then roll at the size limit."""
        self._writer or self._open()
        assert self._file is not None
        self._file.write(data)
        if self._file.tell() >= self.max_bytes:
            self.roll()

    def roll(self) -> None:
        """Close the current file (if any) and hand it over; the next write opens a new one."""
        if self._file is None or self._path is None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        path, seq = self._path, self.seq
        self._file = self._writer = self._path = None
        self.seq += 1
        self.on_roll(path, seq)

    def discard(self) -> None:
        """Close and delete the open file without handing it over (used after errors)."""
        if self._file is not None:
            self._file.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._file = self._writer = self._path = None

    def _open(self) -> WARCWriter:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path = self.folder / self.current_name
        self._file = open(self._path, "wb")  # noqa: SIM115 - kept open across writes
        self._writer = LevelGzipWARCWriter(self._file, level=self.gzip_level,
                                           warc_version=WARC_VERSION)
        self._writer.write_record(warcinfo_record(builder(), self.info))
        return self._writer


class _GzipMember:
    """One gzip member per WARC record, at a chosen compression level. warcio writes a
    record in many small pieces (16 KB body chunks); they are gathered and compressed in
    one call at the end of the record: one GIL hand-over per record instead of one per
    piece, which the crawl on the reactor thread feels."""

    def __init__(self, out: Any, level: int) -> None:
        self.out = out
        self.level = level
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(bytes(data))

    def flush(self) -> None:
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        data = b"".join(self.parts)
        self.parts = []
        self.out.write(compressor.compress(data) + compressor.flush())
        self.out.flush()


class LevelGzipWARCWriter(WARCWriter):
    """warcio's WARCWriter, gzip per record, at a compression level of our choice: warcio
    hard-codes level 9, several times the CPU of level 6 for files a few per cent smaller."""

    def __init__(self, filebuf: Any, *, level: int = 6, **kwargs: Any) -> None:
        super().__init__(filebuf, gzip=False, **kwargs)  # the base class must not wrap
        self.level = level

    def _write_warc_record(self, out: Any, record: Any) -> None:
        super()._write_warc_record(_GzipMember(out, self.level), record)
