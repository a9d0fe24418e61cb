"""The records an export writes, streamed from the store in record_id order."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from harvester.export.order import SUFFIX, in_id_order
from harvester.keys import is_safe_record_id
from pipelines.storage import Store

log = logging.getLogger(__name__)

# Site -> (archive name, home page), named in bag-info.txt and as dc:publisher.
ARCHIVES = {
    "wilson": ("Wilson Center Digital Archive", "https://digitalarchive.wilsoncenter.org/"),
}


def archive_of(site: str) -> tuple[str, str]:
    return ARCHIVES.get(site, (site, ""))


def record_ids(store: Store, site: str) -> Iterator[str]:
    """Ids of the records in records/<site>/, in byte order of the id."""
    prefix = f"records/{site}/"

    def listed() -> Iterator[str]:
        for key in store.list(prefix):
            name = key[len(prefix):]
            if name.endswith(SUFFIX) and "/" not in name:
                record_id = name[:-len(SUFFIX)]
                if is_safe_record_id(record_id):
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
        data = store.get(f"records/{site}/{record_id}{SUFFIX}")
        if data is None:  # deleted while listing
            continue
        try:
            record = json.loads(data)
        except ValueError:
            log.error("records/%s/%s.json is not JSON: skipped", site, record_id)
            continue
        if isinstance(record, dict):
            yield record
