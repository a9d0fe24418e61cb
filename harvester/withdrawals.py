"""Withdrawn documents: the check at the end of a complete backfill campaign (issue 13).

Plain objects, no crawler: the spider schedules the check requests and hands the answers
here (see ArchiveSpider's withdraw methods).

1. `plan_checks`: the stored records the campaign's walk did not meet (no seen marker of
   the campaign names them) and that are not withdrawn already: each is checked at its
   own URL. Missing marks of records the walk met (their page answers) are stale.
2. `WithdrawalCheck`: the answers. 410 Gone withdraws at once; a 404 marks the record
   missing (state/<site>/missing/<id>.json, with the campaign and time of the first 404)
   and withdraws it when the mark is from an earlier campaign; a page that answers clears
   the mark. A request that fails otherwise (timeout, 5xx after retries) decides nothing.
3. The safety valve: when the share of checked records answering 404/410 among the
   site's active records is more than HARVESTER_WITHDRAW_MAX_SHARE, the site or the walk
   is broken, not the archive emptied: nothing is withdrawn, nothing marked missing.
4. `withdraw`: the journal line (`withdrawn`) first, then the active version to
   versions/<site>/<id>/<sha256>.json, then the record with status "withdrawn" and
   withdrawn_at (content and content_sha256 unchanged); the missing mark and a failed
   entry of its URL are cleared.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harvester import exits
from harvester.exceptions import StoreError, UnsafeKey
from harvester.keyids import missing_id_at, record_id_at
from harvester.keys import (
    missing_key,
    missing_prefix,
    record_key,
    record_prefix,
    version_key,
)
from harvester.state import HarvestState, load_json
from pipelines.storage import Store

logger = logging.getLogger(__name__)

JSON = "application/json"
GUARD_CLOSE = exits.GUARD_CLOSE  # close reason of a run the safety valve stopped (exit 7)
GONE, MISSING, CONFIRMED, ANSWERED = "gone", "missing", "confirmed", "answered"
# Sent by the spider for every record it withdrew (kwargs: line, the feed line).
record_withdrawn = object()


def _read_json(store: Store, key: str) -> Any:
    return load_json(store.get(key))


def _parallel(fn: Callable[[Any], Any], items: Iterable[Any], threads: int) -> list[Any]:
    items = list(items)
    if threads <= 1 or len(items) < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="withdraw") as pool:
        return list(pool.map(fn, items))


def record_ids_in_store(store: Store, site: str) -> list[str]:
    ids = []
    for key in store.list(record_prefix(site)):
        record_id = record_id_at(store, site, key)
        if record_id is not None:
            ids.append(record_id)
    return ids


def is_withdrawn(record: Any) -> bool:
    return isinstance(record, dict) and record.get("status") == "withdrawn"


def count_withdrawn(store: Store, site: str, threads: int = 16) -> int:
    """How many of the site's stored records are withdrawn (reads every record)."""
    keys = [record_key(site, rid) for rid in record_ids_in_store(store, site)]
    return sum(1 for record in _parallel(lambda k: _read_json(store, k), keys, threads)
               if is_withdrawn(record))


@dataclass(frozen=True)
class Candidate:
    """A stored record the walk did not meet: checked at its own URL."""

    record_id: str
    url: str  # the record's canonical URL (the spider maps it onto the crawl host)
    missing: dict[str, Any] | None = None  # its missing mark, if a 404 was seen before


@dataclass
class CheckPlan:
    candidates: list[Candidate]
    active: int  # the site's active records in the store (the valve's denominator)
    withdrawn: int  # records withdrawn already (not checked again)
    stale_missing: list[str] = field(default_factory=list)  # marks of records the walk met


def plan_checks(store: Store, state: HarvestState, site: str, campaign_id: str,
                threads: int = 16) -> CheckPlan:
    """Blocking: which stored records to check at the end of the campaign `campaign_id`.
    Raises StoreError when the store cannot be read (the check then decides nothing).

    A campaign this run began in a store that held no record of the site (the run's start
    listed records/<site>/ to choose its mode and found none: `state.began_on_empty`) has
    nothing to check: every record in the store now was stored by this run, so its walk
    met it (or a process beside it stored it meanwhile: that record is checked by the next
    campaign). With no missing mark in the store either (the state's listing), nothing is
    listed or read."""
    missing_keys = state.listed(missing_prefix(site))
    if missing_keys is None:
        missing_keys = list(store.list(missing_prefix(site)))
    marked = {rid for rid in (missing_id_at(store, site, key) for key in missing_keys)
              if rid is not None}
    if state.began_on_empty == campaign_id and not marked:
        return CheckPlan([], active=0, withdrawn=0)
    met = {m.get("record_id") for m in state.iter_markers()  # batched and per-URL markers
           if isinstance(m, dict) and m.get("campaign") == campaign_id}
    all_ids = record_ids_in_store(store, site)
    unmet = [rid for rid in all_ids if rid not in met]
    records = _parallel(lambda rid: _read_json(store, record_key(site, rid)), unmet,
                        threads)
    candidates, withdrawn = [], 0
    for rid, record in zip(unmet, records, strict=True):
        if not isinstance(record, dict) or not isinstance(record.get("url"), str):
            continue  # deleted meanwhile, or unreadable: nothing to decide
        if is_withdrawn(record):
            withdrawn += 1  # comes back as restored when the listing shows it again
            continue
        mark = _read_json(store, missing_key(site, rid)) if rid in marked else None
        candidates.append(Candidate(rid, record["url"], mark if isinstance(mark, dict) else None))
    stale = sorted(rid for rid in marked if rid in met)
    return CheckPlan(candidates, active=len(all_ids) - withdrawn, withdrawn=withdrawn,
                     stale_missing=stale)


def outcome(status: int, mark: dict[str, Any] | None, campaign_id: str) -> str:
    """What one answer means: gone (410), confirmed (404 after a 404 of an earlier
    campaign), missing (a first 404, or another 404 in the same campaign), answered."""
    if status == 410:
        return GONE
    if status == 404:
        if mark is not None and mark.get("campaign") not in (None, campaign_id):
            return CONFIRMED
        return MISSING
    return ANSWERED


@dataclass
class WithdrawalCheck:
    """The answers of one campaign's check, and the valve over them."""

    campaign_id: str
    active: int
    max_share: float = 0.1
    outcomes: dict[str, str] = field(default_factory=dict)  # record id -> outcome
    candidates: dict[str, Candidate] = field(default_factory=dict)

    def answered(self, candidate: Candidate, status: int) -> str:
        result = outcome(status, candidate.missing, self.campaign_id)
        self.outcomes[candidate.record_id] = result
        self.candidates[candidate.record_id] = candidate
        return result

    @property
    def bad(self) -> int:
        """Checked records answering 404 or 410."""
        return sum(1 for o in self.outcomes.values() if o in (GONE, MISSING, CONFIRMED))

    def share(self) -> float:
        return self.bad / self.active if self.active else (1.0 if self.bad else 0.0)

    def tripped(self) -> bool:
        return self.bad > 0 and self.share() > self.max_share

    def reason(self) -> str:
        return (f"{self.bad} of {self.active} stored records answered 404/410 at the end of "
                f"the backfill: the site or its listing looks broken; nothing was withdrawn")

    def to_withdraw(self) -> list[str]:
        return sorted(r for r, o in self.outcomes.items() if o in (GONE, CONFIRMED))

    def to_mark(self) -> list[str]:
        return sorted(r for r, o in self.outcomes.items() if o == MISSING)


def mark_missing(store: Store, site: str, candidate: Candidate, campaign_id: str,
                 run_id: str, now: str) -> None:
    """Blocking: a first 404 (a mark already there keeps its campaign and time)."""
    if candidate.missing is not None:
        return
    body = {"record_id": candidate.record_id, "url": candidate.url, "campaign": campaign_id,
            "first_404_at": now, "run_id": run_id}
    store.put(missing_key(site, candidate.record_id),
              json.dumps(body, sort_keys=True).encode("utf-8"), content_type=JSON)


def clear_missing(store: Store, site: str, record_id: str) -> None:
    with contextlib.suppress(StoreError, UnsafeKey):
        if store.exists(missing_key(site, record_id)):
            store.delete(missing_key(site, record_id))


def withdrawn_line(record: dict[str, Any], key: str, run_id: str, now: str) -> dict[str, Any]:
    """The changes-feed line of a withdrawal (harvested_at: when it was confirmed)."""
    return {"record_id": record["record_id"], "change": "withdrawn",
            "content_sha256": record.get("content_sha256"), "key": key,
            "url": record.get("url"), "title": record.get("title"), "run_id": run_id,
            "harvested_at": now}


def withdraw(store: Store, state: HarvestState, site: str, record_id: str, run_id: str,
             now: str) -> dict[str, Any] | None:
    """Blocking: withdraw one stored record; returns its feed line (None when there is no
    active record to withdraw any more)."""
    key = record_key(site, record_id)
    data = store.get(key)
    record = load_json(data)
    if not isinstance(record, dict) or is_withdrawn(record):
        return None
    line = withdrawn_line(record, key, run_id, now)
    state.put_change(run_id, record_id, line)  # journaled first: a killed run still tells
    sha = record.get("content_sha256")
    if isinstance(sha, str):
        with contextlib.suppress(UnsafeKey):
            store.put(version_key(site, record_id, sha), data or b"", content_type=JSON,
                      if_absent=True)
    updated = dict(record, status="withdrawn", withdrawn_at=now)
    store.put(key, json.dumps(updated, ensure_ascii=False, indent=1).encode("utf-8"),
              content_type=JSON)
    clear_missing(store, site, record_id)
    if isinstance(record.get("url"), str):
        state.clear_failed(record["url"])
    return line


def apply(store: Store, state: HarvestState, site: str, check: WithdrawalCheck, run_id: str,
          now: str) -> list[dict[str, Any]]:
    """Blocking: the check passed the valve: mark the first 404s, withdraw the rest.
    Returns the feed lines of the withdrawn records."""
    for rid in check.to_mark():
        mark_missing(store, site, check.candidates[rid], check.campaign_id, run_id, now)
    lines = []
    for rid in check.to_withdraw():
        line = withdraw(store, state, site, rid, run_id, now)
        if line is not None:
            lines.append(line)
    return lines
