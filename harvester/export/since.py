"""`--since RUN_ID_OR_DATE`: which records changed, read from the runs' changes feeds.

    runs/<site>/<run_id>.changes.jsonl   {record_id, change, content_sha256, key, url,
                                          title, run_id, harvested_at} per line

- a run id (20240501T120000Z-abcdef12): the records the feeds of every *later* run
  name (run ids sort by their start time); the given run must have a report or feed.
- an ISO date or date-time (2024-05-01, 2024-05-01T12:00:00Z, +02:00 offsets; naive
  means UTC): the records of feed lines with harvested_at at or after it.

The result is the set of record ids (small strings; 20,000 ids are about 2 MB);
the export then writes the *latest* version of each, once.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harvester.exceptions import ConfigError
from harvester.keys import changes_key, changes_run_id, is_run_id, run_report_key, runs_prefix
from pipelines.storage import Store


@dataclass(frozen=True)
class Since:
    run_id: str | None = None
    when: datetime | None = None


def parse_since(value: str) -> Since:
    """A run id or an ISO 8601 date/date-time; ConfigError otherwise."""
    value = value.strip()
    if is_run_id(value):
        return Since(run_id=value)
    when = parse_time(value.replace("z", "Z"))
    if when is None:
        raise ConfigError(f"--since wants a run id (e.g. 20240501T120000Z-abcdef12) or an "
                          f"ISO date/time (e.g. 2024-05-01T12:00:00Z), not {value!r}")
    return Since(when=when)


def parse_time(value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def feed_run_ids(store: Store, site: str) -> Iterator[str]:
    """Run ids with a changes feed, oldest first."""
    for key in store.list(runs_prefix(site)):
        run_id = changes_run_id(site, key)
        if run_id is not None:
            yield run_id


def feed_lines(store: Store, site: str, run_id: str) -> Iterator[dict[str, Any]]:
    data = store.get(changes_key(site, run_id)) or b""
    for line in io.BytesIO(data):  # a line at a time: not a second copy of the feed in lines
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("record_id"), str):
            yield entry


def changed_since(store: Store, site: str, since: Since) -> set[str]:
    """The ids of records added or changed after the run / at or after the time."""
    if since.run_id is not None:
        if not (store.exists(run_report_key(site, since.run_id))
                or store.exists(changes_key(site, since.run_id))):
            raise ConfigError(f"--since: no run {since.run_id} of site {site} in the store")
        return {entry["record_id"] for run_id in feed_run_ids(store, site)
                if run_id > since.run_id for entry in feed_lines(store, site, run_id)}
    assert since.when is not None
    ids = set()
    for run_id in feed_run_ids(store, site):
        for entry in feed_lines(store, site, run_id):
            stamp = parse_time(str(entry.get("harvested_at") or "").replace("Z", "+00:00"))
            if stamp is not None and stamp >= since.when:
                ids.add(entry["record_id"])
    return ids
