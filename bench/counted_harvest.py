"""`python -m harvester.cli ...` with the local store's calls counted, by operation and kind.

    HARVESTER_COUNT_OUT=counts.json python bench/counted_harvest.py harvest wilson --store DIR ...

The local store's five operations are wrapped for the store under `--store` only (not the
spool), and at exit the counts are written to HARVESTER_COUNT_OUT as
[[operation, kind, n], ...], the kinds as tests/services/s3_counter.py names them. What a
local store does per call is a few system calls, where S3 does one HTTP request: the counts
are the same work named the same way, for the table that sets them side by side.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from services.s3_counter import key_kind  # noqa: E402

from harvester.cli import main  # noqa: E402
from pipelines.storage.local import LocalStore  # noqa: E402

OPS = {"put": "PUT", "get": "GET", "exists": "HEAD", "list": "LIST", "delete": "DELETE"}


def install(root: Path, counts: Counter[tuple[str, str]]) -> None:
    lock = threading.Lock()
    for name, op in OPS.items():
        original = getattr(LocalStore, name)

        def counted(self: LocalStore, key: str = "", *args: Any, _original: Any = original,
                    _op: str = op, **kwargs: Any) -> Any:
            if Path(self.root).resolve() == root:
                with lock:
                    counts[(_op, key_kind(key, ""))] += 1
            return _original(self, key, *args, **kwargs)

        setattr(LocalStore, name, counted)


def run(argv: list[str]) -> int:
    store = Path(argv[argv.index("--store") + 1]).resolve()
    counts: Counter[tuple[str, str]] = Counter()
    install(store, counts)
    out = os.environ["HARVESTER_COUNT_OUT"]

    def dump() -> None:
        Path(out).write_text(json.dumps([[op, kind, n] for (op, kind), n in counts.items()]))

    atexit.register(dump)
    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
