"""Record ids in byte order, streamed from keys listed in the store's (lexical) key order.

The store lists records/<site>/<key part>.json in lexical order of the *key*, which is
the record ids' own order but where
- an id continues another with "-", "." or an escaped character ("1-a.json" and
  "1!20a.json" sort before "1.json", but "1" < "1-a" and "1" < "1 a"), or
- an id has an escaped character (`!XX`, see harvester.keys) where another one has a kept
  character below it ("a:" is "a!3A.json", before "a9.json", but "a9" < "a:").
`in_id_order` repairs that with a small buffer: an id is held back only while a key still
to come could belong to an id sorting before it. For the archive's numeric ids nothing is
held. Export order is the byte (code point) order of record_id strings: "10" < "9".
"""

from __future__ import annotations

import bisect
import heapq
import string
from collections.abc import Iterable, Iterator

from harvester.keys import HASHED, HASHED_HEAD_BYTES, id_to_key_part, kept_at, key_part_units
from harvester.keys import RECORD_SUFFIX as SUFFIX

# a long id's hashed key part keeps at least this much of its escaped form (harvester.keys)
_HASHED_HEAD_MIN = HASHED_HEAD_BYTES - 2

_KEPT_CHARS = sorted(set(string.ascii_letters + string.digits + "_-."))


# the characters kept_at keeps at an id's start, after a ".", and elsewhere, sorted
_KEPT_BY_PLACE = {place: [c for c in _KEPT_CHARS if kept_at(c, *args)]
                  for place, args in (("first", (0, "")), ("after_dot", (1, ".")),
                                      ("other", (1, "a")))}


def _largest_kept_below(char: str, index: int, previous: str) -> str:
    """The greatest character below `char` that stays as it is at `index` after
    `previous` ("" when there is none)."""
    place = "first" if index == 0 else "after_dot" if previous == "." else "other"
    kept = _KEPT_BY_PLACE[place]
    at = bisect.bisect_left(kept, char)
    return kept[at - 1] if at else ""


def _last_blocking_key(record_id: str) -> str:
    """The key the listing must have reached before `record_id` can be given out ("" when
    none): the greatest key of a smaller id that sorts after its own key, or, for a family
    of such ids, a bound above all their keys."""
    units = key_part_units(record_id)
    own = "".join(units) + SUFFIX
    blocking = ""
    head = ""  # the key part of record_id[:index]
    for index, (char, unit) in enumerate(zip(record_id, units, strict=True)):
        if index and head + SUFFIX > own:  # a shorter id it starts with ("1" for "1-a")
            blocking = max(blocking, head + SUFFIX)
        if unit != char:  # escaped: ids with a kept character below it here sort first
            previous = record_id[index - 1] if index else ""
            below = _largest_kept_below(char, index, previous)
            if below:  # every key starting head + below sorts before this bound
                blocking = max(blocking, head + chr(ord(below) + 1))
        head += unit
    if len(head) > _HASHED_HEAD_MIN:
        # a smaller long id sharing this much of the escaped form has a hashed key
        # (head, "~", hex digits) that may sort after this id's: every key that starts
        # with it sorts before this bound
        blocking = max(blocking, head[:_HASHED_HEAD_MIN] + HASHED + "g")
    return blocking


def in_id_order(ids_in_key_order: Iterable[str]) -> Iterator[str]:
    """Re-order ids listed in lexical order of their keys ("<key part>.json") into
    lexical order of the ids."""
    pending: list[tuple[str, str]] = []  # heap of (id, key that must be passed first)
    for record_id in ids_in_key_order:
        heapq.heappush(pending, (record_id, _last_blocking_key(record_id)))
        current = id_to_key_part(record_id) + SUFFIX  # where the listing is (hashed or not)
        while pending and pending[0][1] <= current:
            yield heapq.heappop(pending)[0]
    while pending:
        yield heapq.heappop(pending)[0]
