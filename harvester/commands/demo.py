"""`harvester demo`: the bundled offline sample archive, served on loopback and harvested
into the local store, with a short summary of what landed where. `--oai` harvests the
archive's OAI-PMH endpoint (/oai) with the OAI source instead, as source `sample-oai`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

OAI_SOURCE = "sample-oai"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="harvest the bundled offline sample archive (no network)")
    p.add_argument("--store", default="./harvest-data", help="store URI (default ./harvest-data)")
    p.add_argument("--size", type=int, default=60, help="documents in the sample archive")
    p.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="override a Scrapy setting (repeatable)")
    p.add_argument("--oai", action="store_true",
                   help=f"harvest the sample archive's OAI-PMH endpoint (/oai) with the OAI "
                        f"source, into records/{OAI_SOURCE}/")
    p.set_defaults(run=run)


def demo_args(args: argparse.Namespace, base_url: str) -> argparse.Namespace:
    fast = ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
            "LOG_LEVEL=WARNING"]
    return argparse.Namespace(store=args.store, mode=None, base_url=base_url, limit=None,
                              redis=None, workers=None, settings=fast + list(args.settings))


def summary(store_uri: str, site: str = "wilson") -> str:
    from harvester.commands.status import runs_table, site_summary
    from harvester.keys import record_prefix
    from pipelines.storage import open_store

    store = open_store(store_uri)
    s = site_summary(store, site)
    lines = [f"demo: {s['records']} records, {s['files']} files, {s['quarantined']} quarantined "
             f"in {store_uri}"]
    if not store_uri.startswith("s3://"):
        root = Path(store_uri.removeprefix("file://")).resolve()
        lines.append(f"  records: {root / 'records' / site}/<record_id>.json")
        lines.append(f"  files:   {root / 'files' / site}/<record_id>/<name>.pdf")
        lines.append(f"  runs:    {root / 'runs' / site}/<run_id>.json (+ .changes.jsonl)")
    for key in list(store.list(record_prefix(site)))[:3]:
        record = json.loads(store.get(key) or b"{}")
        lines.append(f"  e.g. {record.get('record_id')}: {record.get('title', '')[:70]} "
                     f"({record.get('date') or 'undated'})")
    if s["runs"]:
        lines.append(runs_table(s["runs"][-3:]))
    return "\n".join(lines)


def oai_args(args: argparse.Namespace, endpoint: str) -> argparse.Namespace:
    """`harvester harvest oai --endpoint ENDPOINT --name sample-oai` with the demo's store
    and settings."""
    plain = demo_args(args, endpoint)
    return argparse.Namespace(**{**vars(plain), "site": "oai", "base_url": None,
                                 "endpoint": endpoint, "name": OAI_SOURCE, "sets": [],
                                 "metadata_prefix": None, "sources": None})


def run(args: argparse.Namespace) -> int:
    if getattr(args, "oai", False):
        return run_oai(args)
    from harvester.commands.harvest import build_settings
    from harvester.runner import run_harvest
    from harvester.sample import SampleArchive, SampleServer

    with SampleServer(SampleArchive(size=args.size)) as server:
        print(f"demo: sample archive of {args.size} documents at {server.base_url}")
        code = run_harvest("wilson", build_settings(demo_args(args, server.base_url)))
    print(summary(args.store))
    return code


def run_oai(args: argparse.Namespace) -> int:
    from harvester.commands.harvest import build_settings, resolve_source
    from harvester.runner import run_harvest
    from harvester.sample import SampleArchive, SampleServer

    with SampleServer(SampleArchive(size=args.size)) as server:
        endpoint = f"{server.base_url}/oai"
        print(f"demo: sample archive of {args.size} documents, OAI-PMH endpoint {endpoint}")
        harvest = oai_args(args, endpoint)
        settings = build_settings(harvest)
        code = run_harvest(resolve_source(harvest, settings), settings)
    print(summary(args.store, OAI_SOURCE))
    return code
