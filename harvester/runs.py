"""Run reports and changes feeds: reading, field coverage, site-change detection, recovery.

runs/<site>/<run_id>.json            one report per run
runs/<site>/<run_id>.changes.jsonl   what the run added or changed, one JSON line per record
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from harvester.keys import changes_key, run_report_key, runs_prefix
from harvester.state import HarvestState
from pipelines.storage import Store
from pipelines.storage.base import put_file


def has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


class Coverage:
    """Counts, per field, the records that have a value."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        """`fields`: the source's coverage fields (RecordSchema.coverage_fields)."""
        self.records = 0
        self.fields = fields
        self.present = dict.fromkeys(fields, 0)

    def add(self, record: dict[str, Any]) -> None:
        self.records += 1
        for name in self.fields:
            if has_value(record.get(name)):
                self.present[name] += 1

    def shares(self) -> dict[str, float]:
        if not self.records:
            return {}
        return {name: round(count / self.records, 4) for name, count in self.present.items()}


def coverage_alerts(current: dict[str, float], records: int, previous: Iterable[dict[str, Any]],
                    *, min_records: int, drop: float) -> list[dict[str, Any]]:
    """Fields whose coverage fell below `drop` x their average over previous runs."""
    if records < min_records:
        return []
    history = [r["coverage"] for r in previous
               if r.get("coverage") and r.get("counts", {}).get("records", 0) >= min_records]
    if not history:
        return []
    alerts = []
    for name, share in current.items():
        past = [h.get(name) for h in history if h.get(name) is not None]
        if not past:
            continue
        level = sum(past) / len(past)
        if level >= 0.2 and share < level * drop:
            alerts.append({"field": name, "coverage": share, "previous": round(level, 4)})
    return alerts


def iter_reports(store: Store, site: str) -> Iterator[dict[str, Any]]:
    """Every run report of the site, oldest first (run ids sort by start time)."""
    for key in store.list(runs_prefix(site)):
        if not key.endswith(".json"):
            continue
        data = store.get(key)
        if data is None:
            continue
        try:
            report = json.loads(data)
        except ValueError:
            continue
        if isinstance(report, dict):
            yield report


def earlier_reports(store: Store, state: HarvestState, site: str, run_id: str,
                    started_at: str, keep: int = 5) -> list[dict[str, Any]]:
    """The last `keep` finished runs that ended before this one began (oldest first): the
    runs a coverage comparison holds this one against. Only runs that began before this one
    can have, so the listing of runs/ made at its start (recover_interrupted) is enough, and
    the reports are read newest first (run ids sort by start) until `keep` are found: a few
    reads, however many runs the store holds."""
    prefix = runs_prefix(site)
    keys = state.runs_listed if state.runs_listed is not None else list(store.list(prefix))
    names = sorted({k[len(prefix):-len(".json")] for k in keys
                    if k.startswith(prefix) and k.endswith(".json")
                    and not k.endswith(".changes.jsonl") and "/" not in k[len(prefix):]})
    found: list[dict[str, Any]] = []
    for name in reversed(names):
        if len(found) >= keep:
            break
        if name == run_id:
            continue
        report = _load_report(store, site, name)
        if report is not None:
            found.extend(earlier_finished([report], run_id, started_at, keep))
    return found[::-1]


def earlier_finished(reports: Iterable[dict[str, Any]], run_id: str, started_at: str,
                     keep: int = 5) -> list[dict[str, Any]]:
    """The last `keep` finished runs that ended before this one began: the runs a coverage
    comparison holds this one against. Runs that overlap it (the other Redis workers of the
    same crawl, each holding a part of the documents) are not earlier runs."""
    return [r for r in reports if r.get("run_id") != run_id and r.get("status") == "finished"
            and str(r.get("finished_at") or "") <= started_at][-keep:]


def write_report(store: Store, report: dict[str, Any]) -> None:
    key = run_report_key(report["site"], report["run_id"])
    store.put(key, json.dumps(report, ensure_ascii=False, indent=1).encode(),
              content_type="application/json")


def feed_line(line: dict[str, Any]) -> tuple[str, str]:
    """A changes-feed line as (record id, its JSON text): what a run keeps of each change
    until the feed is written (a few hundred bytes instead of a dict of strings)."""
    return str(line.get("record_id")), json.dumps(line, ensure_ascii=False, sort_keys=True)


class FeedSpill:
    """The changes-feed lines of a running run, kept in an unnamed temporary file instead
    of memory (a line is ~400 bytes: 8 MB for a 20,000-document backfill, held for the
    whole run). `body()` gives them sorted by record id, as the feed is written. A crash
    loses the file; the store's changes journal is what recovery reads."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="harvester-feed-")  # noqa: SIM115
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, item: tuple[str, str]) -> None:
        """A (record id, JSON text) pair from `feed_line`."""
        record_id, text = item
        self._file.write(f"{record_id}\t{text}\n".encode())
        self._count += 1

    def body(self) -> bytes:
        """The feed: every line, sorted by record id (equal ids in arrival order)."""
        with self.sorted_file() as out:
            return out.read()

    def sorted_file(self) -> IO[bytes]:
        """The feed in a temporary file (the caller closes it), at its start: every line,
        sorted by record id (equal ids in arrival order). In memory meanwhile: each line's
        id and offset, not the lines (a 100,000-record backfill's feed is ~36 MB)."""
        self._file.seek(0)
        index: list[tuple[bytes, int]] = []
        offset = 0
        for line in self._file:
            index.append((line.split(b"\t", 1)[0], offset))
            offset += len(line)
        index.sort(key=lambda entry: entry[0])
        out = tempfile.TemporaryFile(prefix="harvester-feed-sorted-")  # noqa: SIM115
        try:
            for _, at in index:
                self._file.seek(at)
                out.write(self._file.readline().split(b"\t", 1)[1])
        except BaseException:
            out.close()
            raise
        del index
        self._file.seek(0, os.SEEK_END)
        out.seek(0)
        return out

    def close(self) -> None:
        self._file.close()


def compose_changes(store: Store, state: HarvestState, site: str, run_id: str,
                    lines: Iterable[dict[str, Any]] | None = None, *,
                    serialized: Iterable[tuple[str, str]] | None = None,
                    spill: FeedSpill | None = None, replace: bool = True) -> int:
    """Write runs/<site>/<run_id>.changes.jsonl from the run's journal (or given lines,
    or lines already made by `feed_line`, or a `FeedSpill`), sorted by record id; returns
    the number of lines. `replace=False` leaves a feed already there alone (recovery:
    another worker recovering the same run may be deleting the journal it read whole)."""
    if spill is not None:  # copied from its sorted file, never whole in memory
        with spill.sorted_file() as sorted_lines:
            put_file(store, changes_key(site, run_id), sorted_lines,
                     content_type="application/x-ndjson", if_absent=not replace)
        return len(spill)
    else:
        if serialized is None:
            source = lines if lines is not None else state.iter_changes(run_id)
            serialized = (feed_line(line) for line in source)
        items = sorted(serialized, key=lambda item: item[0])
        body, count = "".join(text + "\n" for _, text in items).encode("utf-8"), len(items)
    store.put(changes_key(site, run_id), body, content_type="application/x-ndjson",
              if_absent=not replace)
    return count


def _age_seconds(stamp: str | None) -> float:
    if not stamp:
        return float("inf")
    try:
        when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return float("inf")
    return (datetime.now(UTC) - when).total_seconds()


def is_dead(report: dict[str, Any], stale_seconds: float) -> bool:
    """A "running" report whose process is gone: its heartbeat is stale, or it ran on this
    host and its process no longer exists."""
    if _age_seconds(report.get("heartbeat_at")) >= stale_seconds:
        return True
    pid = report.get("pid")
    if report.get("host") == socket.gethostname() and isinstance(pid, int) and pid > 0:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def _load_report(store: Store, site: str, run_id: str) -> dict[str, Any] | None:
    data = store.get(run_report_key(site, run_id))
    if data is None:
        return None
    try:
        report = json.loads(data)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def unfinished_reports(store: Store, site: str, listed: list[str] | None = None,
                       keys: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """The reports of runs without a changes feed: running, or killed before their end.
    A run writes its feed before its final report, and recovery writes the feed of a run it
    marks interrupted, so a report with a feed is done: only a listing of runs/ and a read
    of each unfinished report, not of every report the store holds. `listed`: when given,
    the listing's keys are appended to it; `keys`: runs/<site>/ as listed already (the
    state's listing), else it is listed."""
    prefix = runs_prefix(site)
    reports, feeds = [], set()
    for key in keys if keys is not None else store.list(prefix):
        if listed is not None:
            listed.append(key)
        name = key[len(prefix):]
        if name.endswith(".changes.jsonl"):
            feeds.add(name[:-len(".changes.jsonl")])
        elif name.endswith(".json") and "/" not in name:
            reports.append(name[:-len(".json")])
    for run_id in reports:
        if run_id not in feeds:
            report = _load_report(store, site, run_id)
            if report is not None:
                yield report


def recover_interrupted(store: Store, state: HarvestState, site: str, current_run: str,
                        stale_seconds: float) -> list[str]:
    """Finish the books of runs that were killed: their changes feed is composed from the
    journal and their report marked "interrupted". Returns the recovered run ids."""
    recovered = []
    listed: list[str] = []
    reports = {r.get("run_id"): r
               for r in unfinished_reports(store, site, listed, state.runs_keys())}
    state.runs_listed = listed  # what runs/ held when this run began (earlier_reports)
    for run_id in state.journal_run_ids():
        if run_id == current_run:
            continue
        report = reports.get(run_id) or _load_report(store, site, run_id)
        if report and report.get("status") == "running" and not is_dead(report, stale_seconds):
            continue  # another worker's live run
        compose_changes(store, state, site, run_id, replace=False)
        state.drop_changes(run_id)
        if report is None:
            report = {"site": site, "run_id": run_id}
        if report.get("status") in (None, "running"):
            report["status"] = "interrupted"
            write_report(store, report)
        recovered.append(run_id)
    for other, report in reports.items():
        if not isinstance(other, str) or other in recovered or other == current_run \
                or report.get("status") != "running":
            continue
        if is_dead(report, stale_seconds):
            if store.get(changes_key(site, other)) is None:  # the feed first: a report
                compose_changes(store, state, site, other, lines=[])  # with one is done
            report["status"] = "interrupted"
            write_report(store, report)
            recovered.append(other)
    return recovered
