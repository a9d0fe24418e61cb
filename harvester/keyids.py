"""Record ids of listed keys, long ids' included.

A key part gives its id back (`harvester.keys.key_part_to_id`) but for a long id's hashed
part (`harvester.keys.is_hashed_part`), which names the id in the object only: those few
objects are read for it. Everything that lists records/ or missing marks to learn ids
asks here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harvester.keys import (
    RECORD_SUFFIX,
    is_hashed_part,
    missing_id_of_key,
    missing_key,
    missing_prefix,
    record_id_of_key,
    record_key,
    record_prefix,
)


def record_id_at(store: Any, site: str, key: str) -> str | None:
    """The id of the record at a listed `records/<site>/...` key; None for another key."""
    found = record_id_of_key(site, key)
    if found is not None:
        return found
    return _read_id(store, key, record_prefix(site), lambda rid: record_key(site, rid))


def missing_id_at(store: Any, site: str, key: str) -> str | None:
    """The record id of a listed missing mark (`state/<site>/missing/...`); None for
    another key."""
    found = missing_id_of_key(site, key)
    if found is not None:
        return found
    return _read_id(store, key, missing_prefix(site), lambda rid: missing_key(site, rid))


def _read_id(store: Any, key: str, prefix: str, key_of: Callable[[str], str]
             ) -> str | None:
    """A hashed key's id, read from its object (whose id must give that key back)."""
    if not (key.startswith(prefix) and key.endswith(RECORD_SUFFIX)):
        return None
    part = key[len(prefix):-len(RECORD_SUFFIX)]
    if "/" in part or not is_hashed_part(part):
        return None
    try:
        held = json.loads(store.get(key) or b"null")
    except ValueError:
        return None
    rid = held.get("record_id") if isinstance(held, dict) else None
    if not isinstance(rid, str):
        return None
    try:
        return rid if key_of(rid) == key else None
    except Exception:  # noqa: BLE001 - an id with no key names no listed object
        return None
