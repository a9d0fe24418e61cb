"""The harvester's own state, kept in the store under state/<site>/ (not on a local disk).

- seen/<digest>.json      one marker per document URL harvested: record id, content hash,
                          the backfill campaign that last stored or confirmed it
- failed/<digest>.json    document URLs that failed after retries: retried by the next run
- backfill.json           the current backfill campaign: id, status, listing cursor
- changes/<run_id>/part-<id>.json   lines of the run's changes feed, each written before
                          its record (group commit: lines that arrive together share one
                          object), so a killed run's feed can be rebuilt by the next run;
                          drop-<line id>.json withdraws one line (a lost create-only race)

Markers are keyed by the URL's path and query, not its host, so a mirror and the
live site share them. Every write is one small object: safe with many workers.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
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


def load_json(data: bytes | None) -> Any:
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
        self._journals: dict[str, ChangeJournal] = {}

    # --- seen markers -------------------------------------------------------------------
    def _seen_key(self, url: str) -> str:
        return state_key(self.site, "seen", url_digest(url_identity(url)) + ".json")

    def get_seen(self, url: str) -> dict[str, Any] | None:
        """The URL's marker; None when there is none or the store cannot be read now
        (the document is then fetched, and deduplication decides at write time)."""
        try:
            value = load_json(self.store.get(self._seen_key(url)))
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
            value = load_json(self.store.get(key))
            if isinstance(value, dict) and isinstance(value.get("url"), str):
                yield value

    # --- backfill campaign --------------------------------------------------------------
    def _backfill_key(self) -> str:
        return state_key(self.site, "backfill.json")

    def load_backfill(self) -> dict[str, Any] | None:
        value = load_json(self.store.get(self._backfill_key()))
        return value if isinstance(value, dict) else None

    def save_backfill(self, campaign: dict[str, Any]) -> None:
        self.store.put(self._backfill_key(), _dump(campaign), content_type=JSON)

    # --- changes journal ----------------------------------------------------------------
    def _changes_prefix(self, run_id: str) -> str:
        return state_key(self.site, "changes", run_id) + "/"

    def journal(self, run_id: str) -> ChangeJournal:
        with _JOURNALS_LOCK:
            if run_id not in self._journals:
                self._journals[run_id] = ChangeJournal(self, run_id)
            return self._journals[run_id]

    def put_change(self, run_id: str, record_id: str, line: dict[str, Any]) -> str:
        """Journal one line of the run's feed (blocking until it is stored); returns the
        line's id for `drop_change`."""
        return self.journal(run_id).append(line)

    def drop_change(self, run_id: str, line_id: str) -> None:
        with contextlib.suppress(StoreError):
            self.store.put(state_key(self.site, "changes", run_id, f"drop-{line_id}.json"),
                           b"{}", content_type=JSON)

    def write_journal_part(self, run_id: str, lines: list[dict[str, Any]]) -> None:
        key = state_key(self.site, "changes", run_id, f"part-{secrets.token_hex(8)}.json")
        self.store.put(key, _dump({"lines": lines}), content_type=JSON)

    def iter_changes(self, run_id: str) -> Iterator[dict[str, Any]]:
        prefix = self._changes_prefix(run_id)
        lines: list[dict[str, Any]] = []
        dropped: set[str] = set()
        for key in self.store.list(prefix):
            name = key[len(prefix):]
            if name.startswith("drop-") and name.endswith(".json"):
                dropped.add(name[len("drop-"):-len(".json")])
                continue
            value = load_json(self.store.get(key))
            if isinstance(value, dict) and isinstance(value.get("lines"), list):
                lines.extend(v for v in value["lines"] if isinstance(v, dict))
            elif isinstance(value, dict):  # one line per object (earlier versions)
                lines.append(value)
        for line in lines:
            if line.pop("line_id", None) not in dropped:
                yield line

    def drop_changes(self, run_id: str) -> None:
        """Remove the run's journal once its feed is written (left in place if the store is
        down: the next run then rebuilds the same feed from it)."""
        with contextlib.suppress(StoreError):
            keys = list(self.store.list(self._changes_prefix(run_id)))
            # small objects: in parallel, or a remote store spends minutes on round trips
            with ThreadPoolExecutor(max_workers=8, thread_name_prefix="journal") as pool:
                list(pool.map(self.store.delete, keys))

    def journal_run_ids(self) -> list[str]:
        prefix = state_key(self.site, "changes") + "/"
        runs = {key[len(prefix):].split("/", 1)[0] for key in self.store.list(prefix)}
        return sorted(runs)


_JOURNALS_LOCK = threading.Lock()


class ChangeJournal:
    """Group commit of a run's changes-journal lines.

    `append` returns once a part object holding the line is in the store (or spooled).
    One caller at a time writes a part: it waits up to `linger` seconds for more lines
    (store threads writing other records at the same time), then stores them all in one
    object; callers whose lines it took return when it is done. A backfill thus writes
    one journal object per handful of records instead of one per record, and deletes
    as few at the end of the run.
    """

    def __init__(self, state: HarvestState, run_id: str, *, linger: float = 0.05,
                 max_lines: int = 500) -> None:
        self.state = state
        self.run_id = run_id
        self.linger = linger
        self.max_lines = max_lines
        self._cond = threading.Condition()
        self._buffer: list[dict[str, Any]] = []
        self._next = 0  # sequence number of the next line appended
        self._taken = 0  # lines before this one are in a part being written or written
        self._stored = 0  # lines before this one are stored
        self._writing = False
        self._failures: list[tuple[int, int, BaseException]] = []

    def append(self, line: dict[str, Any]) -> str:
        line_id = secrets.token_hex(8)
        with self._cond:
            seq = self._next
            self._next += 1
            self._buffer.append(line | {"line_id": line_id})
            if len(self._buffer) >= self.max_lines:
                self._cond.notify_all()
            while True:
                for start, end, exc in self._failures:
                    if start <= seq < end:
                        raise exc
                if seq < self._stored:
                    return line_id
                if not self._writing and seq >= self._taken:
                    self._write_part()
                else:
                    self._cond.wait()

    def _write_part(self) -> None:
        """Called with the condition held; releases it while the part is stored."""
        self._writing = True
        deadline = time.monotonic() + self.linger
        while len(self._buffer) < self.max_lines:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        batch, self._buffer = self._buffer, []
        start, self._taken = self._taken, self._taken + len(batch)
        self._cond.release()
        error: BaseException | None = None
        try:
            self.state.write_journal_part(self.run_id, batch)
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
            error = exc
        finally:
            self._cond.acquire()
        if error is not None:
            self._failures.append((start, start + len(batch), error))
        self._stored = start + len(batch)
        self._writing = False
        self._cond.notify_all()
