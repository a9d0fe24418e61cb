"""The harvester's own state, kept in the store under state/<site>/ (not on a local disk).

- seen/<digest>.json      one marker per document URL harvested: record id, content hash,
                          the backfill campaign that last stored or confirmed it
- failed/<digest>.json    document URLs that failed after retries: retried by the next run
- backfill.json           the current backfill campaign: id, status, listing cursor
- changes/<run_id>/<record_id>.json   one line of the run's changes feed, written with the
                          record, so a killed run's feed can be rebuilt by the next run

Markers are keyed by the URL's path and query, not its host, so a mirror and the
live site share them. Every write is one small object: safe with many workers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from harvester.exceptions import StoreError
from harvester.keys import state_key, url_digest
from pipelines.storage import Store

JSON = "application/json"


def url_identity(url: str) -> str:
    """The host-independent identity of a URL: its path and query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _load(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


class HarvestState:
    def __init__(self, store: Store, site: str) -> None:
        self.store = store
        self.site = site

    # --- seen markers -------------------------------------------------------------------
    def _seen_key(self, url: str) -> str:
        return state_key(self.site, "seen", url_digest(url_identity(url)) + ".json")

    def get_seen(self, url: str) -> dict[str, Any] | None:
        """The URL's marker; None when there is none or the store cannot be read now
        (the document is then fetched, and deduplication decides at write time)."""
        try:
            value = _load(self.store.get(self._seen_key(url)))
        except StoreError:
            return None
        return value if isinstance(value, dict) else None

    def mark_seen(self, url: str, record_id: str, content_sha256: str,
                  campaign: str | None) -> None:
        marker = {
            "url": url_identity(url),
            "record_id": record_id,
            "content_sha256": content_sha256,
            "campaign": campaign,
        }
        self.store.put(self._seen_key(url), _dump(marker), content_type=JSON)

    # --- failed documents ---------------------------------------------------------------
    def _failed_key(self, url: str) -> str:
        return state_key(self.site, "failed", url_digest(url_identity(url)) + ".json")

    def mark_failed(self, url: str, reason: str, run_id: str) -> None:
        body = {"url": url_identity(url), "reason": reason[:500], "run_id": run_id}
        self.store.put(self._failed_key(url), _dump(body), content_type=JSON)

    def clear_failed(self, url: str) -> None:
        with contextlib.suppress(StoreError):  # a stale entry only costs a refetch
            self.store.delete(self._failed_key(url))

    def iter_failed(self) -> Iterator[dict[str, Any]]:
        for key in self.store.list(state_key(self.site, "failed") + "/"):
            value = _load(self.store.get(key))
            if isinstance(value, dict) and isinstance(value.get("url"), str):
                yield value

    # --- backfill campaign --------------------------------------------------------------
    def _backfill_key(self) -> str:
        return state_key(self.site, "backfill.json")

    def load_backfill(self) -> dict[str, Any] | None:
        value = _load(self.store.get(self._backfill_key()))
        return value if isinstance(value, dict) else None

    def save_backfill(self, campaign: dict[str, Any]) -> None:
        self.store.put(self._backfill_key(), _dump(campaign), content_type=JSON)

    # --- changes journal ----------------------------------------------------------------
    def _changes_prefix(self, run_id: str) -> str:
        return state_key(self.site, "changes", run_id) + "/"

    def put_change(self, run_id: str, record_id: str, line: dict[str, Any]) -> None:
        key = state_key(self.site, "changes", run_id, record_id + ".json")
        self.store.put(key, _dump(line), content_type=JSON)

    def drop_change(self, run_id: str, record_id: str) -> None:
        with contextlib.suppress(StoreError):
            self.store.delete(state_key(self.site, "changes", run_id, record_id + ".json"))

    def iter_changes(self, run_id: str) -> Iterator[dict[str, Any]]:
        for key in self.store.list(self._changes_prefix(run_id)):
            value = _load(self.store.get(key))
            if isinstance(value, dict):
                yield value

    def drop_changes(self, run_id: str) -> None:
        """Remove the run's journal once its feed is written (left in place if the store is
        down: the next run then rebuilds the same feed from it)."""
        with contextlib.suppress(StoreError):
            keys = list(self.store.list(self._changes_prefix(run_id)))
            # one small object per change: in parallel, or a remote store spends minutes
            with ThreadPoolExecutor(max_workers=8, thread_name_prefix="journal") as pool:
                list(pool.map(self.store.delete, keys))

    def journal_run_ids(self) -> list[str]:
        prefix = state_key(self.site, "changes") + "/"
        runs = {key[len(prefix):].split("/", 1)[0] for key in self.store.list(prefix)}
        return sorted(runs)
