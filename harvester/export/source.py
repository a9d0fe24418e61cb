"""The records an export writes, streamed from the store in record_id order."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from harvester.export.order import in_id_order
from harvester.keyids import record_id_at
from harvester.keys import record_key, record_prefix
from pipelines.storage import Store

log = logging.getLogger(__name__)

def archive_of(site: str) -> tuple[str, str]:
    """(archive name, home page) of a source, named in bag-info.txt and as dc:publisher;
    (site, "") for a source not registered here (records harvested elsewhere)."""
    from harvester.exceptions import ConfigError
    from harvester.registry import get_source

    try:
        source = get_source(site)
    except ConfigError:
        return (site, "")
    return (source.archive_name, source.home_page)


def record_ids(store: Store, site: str) -> Iterator[str]:
    """Ids of the records in records/<site>/, in byte order of the id."""

    def listed() -> Iterator[str]:
        for key in store.list(record_prefix(site)):
            record_id = record_id_at(store, site, key)
            if record_id is not None:
                yield record_id

    return in_id_order(listed())


def without_withdrawn(records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The records whose status is not "withdrawn" (the archive still offers them)."""
    return (r for r in records if r.get("status") != "withdrawn")


def iter_records(store: Store, site: str, only: set[str] | None = None
                 ) -> Iterator[dict[str, Any]]:
    """The latest version of each record (of those in `only`, when given), one at a time."""
    for record_id in record_ids(store, site):
        if only is not None and record_id not in only:
            continue
        key = record_key(site, record_id)
        data = store.get(key)
        if data is None:  # deleted while listing
            continue
        try:
            record = json.loads(data)
        except ValueError:
            log.error("%s is not JSON: skipped", key)
            continue
        if isinstance(record, dict):
            yield record
