"""Record ids in byte order, streamed from keys listed in the store's (lexical) key order.

The store lists records/<site>/<id>.json in lexical order of the *key*, which is
the record ids' own order except where an id continues another with "-" or "."
("1-a.json" sorts before "1.json", but "1" < "1-a"). `in_id_order` repairs that
with a small buffer: an id is held back only while a key still to come could be
a shorter id it starts with. For the archive's numeric ids nothing is held.
Export order is the byte (code point) order of record_id strings: "10" < "9".
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

SUFFIX = ".json"


def _last_blocking_key(record_id: str) -> str:
    """The greatest key of a proper prefix of `record_id` that sorts after its own key
    ("" when none can): until the listing has passed it, the id must wait."""
    own = record_id + SUFFIX
    blocking = ""
    for end in range(1, len(record_id)):
        key = record_id[:end] + SUFFIX
        if key > own and key > blocking:
            blocking = key
    return blocking


def in_id_order(ids_in_key_order: Iterable[str]) -> Iterator[str]:
    """Re-order ids listed in lexical order of "<id>.json" into lexical order of the ids."""
    pending: list[tuple[str, str]] = []  # heap of (id, key that must be passed first)
    for record_id in ids_in_key_order:
        heapq.heappush(pending, (record_id, _last_blocking_key(record_id)))
        current = record_id + SUFFIX
        while pending and pending[0][1] <= current:
            yield heapq.heappop(pending)[0]
    while pending:
        yield heapq.heappop(pending)[0]
