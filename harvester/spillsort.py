"""SpillSort: sorting more items than a process should hold at once.

Items (tuples of str, int, bool, float and tuples of them) are added one at a time; every
`limit` of them are sorted and written to an anonymous temporary file (each item marshalled,
after its length), and iterating merges the files back (heapq.merge: one item of each file,
and CHUNK bytes of each file read ahead, in memory). Fewer than `limit` items never leave
memory. Sorted by the items' own order (the tuple order), so callers put the sort key
first; the merge is stable (files in the order written), so equal items come back in the
order they were added.

Used where the OAI-PMH index is built from a whole store (harvester/oaiserve/build.py): a
source of 100,000 records holds `limit` of them at a time instead of all.
"""

from __future__ import annotations

import heapq
import io
import marshal
import struct
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

LIMIT = 10000  # items held before a sorted run goes to a file
# A spilled file's buffer: its items are read through it, each length first, then
# unmarshalled from their bytes (marshal.load on the file read each item a few bytes at a
# time: ~3 us an item, as much as the sort; 0.05-0.08 s of a 10,000-record OAI index build).
CHUNK = io.DEFAULT_BUFFER_SIZE  # 8 KB: a merge of 100 files holds 0.8 MB of buffers
_SIZE = struct.Struct("<I")  # an item's marshalled length, before it


class SpillSort:
    def __init__(self, limit: int | None = None, make: Callable[..., Any] | None = None) -> None:
        self.limit = max(1, LIMIT if limit is None else limit)
        self.make = make  # rebuilds an item read back (e.g. a NamedTuple's _make)
        self.count = 0
        self._items: list[tuple[Any, ...]] = []
        self._files: list[IO[bytes]] = []

    def add(self, item: tuple[Any, ...]) -> None:
        self._items.append(item)
        self.count += 1
        if len(self._items) >= self.limit:
            self._spill()

    def _spill(self) -> None:
        self._items.sort()
        file = tempfile.TemporaryFile(  # noqa: SIM115 - closed in close()
            prefix="harvester-sort-", buffering=CHUNK)
        dumps, pack = marshal.dumps, _SIZE.pack
        for item in self._items:
            data = dumps(tuple(item))  # marshal takes plain tuples only, not NamedTuples
            file.write(pack(len(data)) + data)
        file.flush()
        self._files.append(file)
        self._items = []

    def __iter__(self) -> Iterator[Any]:
        """The items in order, once (the sorter is empty after)."""
        if not self._files:
            items, self._items = self._items, []
            items.sort()
            yield from items
            return
        if self._items:
            self._spill()  # nothing of it stays in memory while the files are merged
        try:
            yield from heapq.merge(*(self._read(file) for file in self._files))
        finally:
            self.close()

    def _read(self, file: IO[bytes]) -> Iterator[Any]:
        file.seek(0)
        loads, make, read = marshal.loads, self.make, file.read
        unpack, head = _SIZE.unpack, _SIZE.size
        while True:
            size_bytes = read(head)
            if not size_bytes:
                return
            if len(size_bytes) != head:
                raise EOFError("a spilled sort file ends inside an item's length")
            (size,) = unpack(size_bytes)
            data = read(size)
            if len(data) != size:
                raise EOFError("a spilled sort file ends inside an item")
            item = loads(data)
            yield make(*item) if make is not None else item

    def close(self) -> None:
        files, self._files, self._items = self._files, [], []
        for file in files:
            file.close()

    def __enter__(self) -> SpillSort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
