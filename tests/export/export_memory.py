"""Run in a subprocess by test_export_memory: one export, reporting its peak RSS growth.

argv: STORE_DIR FORMAT OUT  -> prints {"count": N, "growth_kb": KB} on stdout
"""

from __future__ import annotations

import json
import resource
import sys


def main() -> None:
    store_dir, fmt, out = sys.argv[1:4]
    from harvester.export.bag import export_bag
    from harvester.export.dc import export_dc
    from harvester.export.jsonl import export_jsonl
    from harvester.export.source import iter_records
    from pipelines.storage import open_store

    store = open_store(store_dir)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    records = iter_records(store, "wilson")
    if fmt == "jsonl":
        count = export_jsonl(records, out)
    elif fmt == "dc":
        count = export_dc(records, out)
    else:
        count = export_bag(store, "wilson", records, out).records
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"count": count, "growth_kb": after - before}))


if __name__ == "__main__":
    main()
