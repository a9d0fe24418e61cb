"""`harvester status [--store URI]`: what a store holds and its last runs, as a table."""

from __future__ import annotations

import argparse
from typing import Any

from harvester.keys import (
    file_version_sha,
    files_prefix,
    is_site,
    missing_prefix,
    quarantine_prefix,
    raw_prefix,
    record_prefix,
    top_prefix,
    versions_prefix,
)
from harvester.runs import iter_reports


def add_parser(sub: Any) -> None:
    p = sub.add_parser("status", help="what a store holds: counts and the last runs")
    p.add_argument("--store", default="./harvest-data", help="store URI (default ./harvest-data)")
    p.add_argument("--runs", type=int, default=10, help="how many recent runs to show")
    p.set_defaults(run=run)


def sites_in(store: Any) -> list[str]:
    sites: set[str] = set()
    for top in (top_prefix("records"), top_prefix("runs")):
        for key in store.list(top):
            parts = key.split("/")
            if len(parts) >= 3 and is_site(parts[1]):
                sites.add(parts[1])
    return sorted(sites)


def count(store: Any, prefix: str, suffix: str = "") -> int:
    return sum(1 for key in store.list(prefix) if key.endswith(suffix))


def site_summary(store: Any, site: str) -> dict[str, Any]:
    from harvester.state import HarvestState
    from harvester.withdrawals import count_withdrawn

    state = HarvestState(store, site)
    versions = earlier_files = 0
    for key in store.list(versions_prefix(site)):
        if file_version_sha(key):
            earlier_files += 1  # a replaced file's bytes, kept beside the record's versions
        elif key.endswith(".json"):
            versions += 1
    return {
        "records": count(store, record_prefix(site), ".json"),
        "withdrawn": count_withdrawn(store, site),
        "missing": count(store, missing_prefix(site), ".json"),
        "versions": versions,
        "earlier_files": earlier_files,
        "files": count(store, files_prefix(site)),
        "raw": count(store, raw_prefix(site)),
        "quarantined": count(store, quarantine_prefix(site), ".json"),
        "failed_pending": sum(1 for _ in state.iter_failed()),
        "backfill": state.load_backfill(),
        "incremental": state.load_incremental(),
        "runs": list(iter_reports(store, site)),
    }


def runs_table(reports: list[dict[str, Any]]) -> str:
    header = ("run id", "mode", "status", "new", "chg", "same", "fail", "quar", "reqs", "started",
              "finished")
    rows = [header]
    for r in reports:
        c, q = r.get("counts", {}), r.get("requests", {})
        rows.append((
            str(r.get("run_id", "?")), str(r.get("mode") or "-"), str(r.get("status", "?")),
            str(c.get("new", 0)), str(c.get("changed", 0)), str(c.get("unchanged", 0)),
            str(c.get("failed", 0)), str(c.get("quarantined", 0)), str(q.get("total", 0)),
            str(r.get("started_at") or "-"), str(r.get("finished_at") or "-"),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pipelines.storage import open_store

    store = open_store(args.store)
    sites = sites_in(store)
    print(f"store: {args.store}")
    if not sites:
        print("empty: no records and no runs yet")
        return 0
    for site in sites:
        s = site_summary(store, site)
        campaign = s["backfill"]
        print(f"\nsite {site}: {s['records']} records ({s['withdrawn']} withdrawn, "
              f"{s['missing']} missing: a 404 that a later backfill confirms or clears), "
              f"{s['versions']} earlier versions, "
              + (f"{s['earlier_files']} earlier files kept, " if s["earlier_files"] else "") +
              f"{s['files']} files, {s['raw']} raw captures, {s['quarantined']} quarantined, "
              f"{s['failed_pending']} failed (retried next run)")
        if campaign:
            print(f"backfill campaign {campaign.get('id')}: {campaign.get('status')}, "
                  f"listing cursor page {campaign.get('cursor')}")
        walk = s["incremental"]
        if walk and walk.get("status") == "running":
            print(f"incremental walk {walk.get('id')}: open since {walk.get('started_at')} "
                  "(a run stopped before reaching known documents; the next incremental run "
                  "resumes it)")
        reports = s["runs"][-args.runs:]
        if reports:
            print(f"last {len(reports)} runs:")
            print(runs_table(reports))
            alerts = reports[-1].get("coverage_alerts") or []
            for alert in alerts:
                print(f"ALERT: field {alert['field']} coverage {alert['coverage']:.0%} "
                      f"(was {alert['previous']:.0%})")
    return 0
