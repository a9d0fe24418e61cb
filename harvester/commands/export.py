"""`harvester export --store URI --format jsonl|bagit|dc --out PATH [--since RUN_ID_OR_DATE]
[--site wilson]`: records (or those changed since a run or a date) for downstream archives.

- jsonl: one record per line in --out (a file, "-" for stdout), sorted by record_id
- bagit: a BagIt 1.0 bag at --out (a new or empty folder), sha256 + sha512 manifests
- dc:    one oai_dc XML file per record in the folder --out (<record_id>.xml)

Records come in byte order of record_id and are streamed: memory does not grow
with the store. --since follows the changes feeds runs/<site>/<run_id>.changes.jsonl.

Withdrawn records (status "withdrawn": the archive no longer offers them; their last
content is kept) are left out of bagit and dc exports unless --include-withdrawn; jsonl
carries every record with its status. A --since export carries what changed in every
format, withdrawals included (a withdrawn record with its status, so a downstream copy
can follow).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

FORMATS = ("jsonl", "bagit", "dc")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export records as JSON Lines, a BagIt bag or Dublin Core",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default="./harvest-data", help="store URI (default ./harvest-data)")
    p.add_argument("--format", required=True, choices=FORMATS, help="export format")
    p.add_argument("--out", required=True, help="output file (jsonl, '-' = stdout) or folder")
    p.add_argument("--since", default=None, metavar="RUN_ID_OR_DATE",
                   help="only records added or changed after this run, or at/after this "
                        "ISO date/time (UTC unless it has an offset)")
    p.add_argument("--site", default="wilson", help="site to export (default wilson)")
    p.add_argument("--include-withdrawn", action="store_true",
                   help="bagit/dc: also records the archive withdrew (jsonl always has them, "
                        "with their status; --since exports carry the withdrawals)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harvester.export.bag import export_bag
    from harvester.export.dc import export_dc
    from harvester.export.jsonl import export_jsonl
    from harvester.export.since import changed_since, parse_since
    from harvester.export.source import iter_records, without_withdrawn
    from harvester.keys import check_site
    from pipelines.storage import open_store

    site = check_site(args.site)
    since = parse_since(args.since) if args.since else None
    store = open_store(args.store)
    try:
        only = changed_since(store, site, since) if since else None
        records = iter_records(store, site, only)
        if args.format != "jsonl" and since is None and not args.include_withdrawn:
            records = without_withdrawn(records)
        if args.format == "jsonl":
            count = export_jsonl(records, args.out)
        elif args.format == "dc":
            count = export_dc(records, args.out)
        else:
            count = export_bag(store, site, records, args.out, since=args.since).records
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    where = "stdout" if args.out == "-" else args.out
    print(f"exported {count} record(s) of {site} as {args.format} to {where}", file=sys.stderr)
    return 0
