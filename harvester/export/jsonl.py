"""JSON Lines export: one record per line (UTF-8, compact), in record_id order.

Written to a temporary file beside `out` and renamed over it at the end, so a
reader never sees half an export; "-" writes to standard output.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any


def write_lines(records: Iterable[dict[str, Any]], fh: IO[str]) -> int:
    count = 0
    for record in records:
        fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        fh.write("\n")
        count += 1
    return count


def export_jsonl(records: Iterable[dict[str, Any]], out: str | Path) -> int:
    """Write the records to `out` (a file path, or "-"); returns how many."""
    if str(out) == "-":
        return write_lines(records, sys.stdout)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            count = write_lines(records, fh)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count
