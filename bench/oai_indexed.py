"""The test look-alike OAI-PMH repository (tests/oai/oai_lookalike.py) with its selection
indexed, for benchmarks whose records never change: a page costs the server the same at
100,000 records as at 2,000, whichever window it is of (the look-alike scans every record
for every page). `latency`: seconds each ListRecords answer waits (a slower repository)."""

from __future__ import annotations

import bisect
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "oai"))

from oai_lookalike import Repository  # noqa: E402


class IndexedRepository(Repository):
    latency = 0.0

    def index(self) -> None:
        self.order = sorted(self.items.values(), key=lambda i: (i.datestamp, i.identifier))
        self.stamps = [i.datestamp.replace(microsecond=0) for i in self.order]
        self.xml: dict[str, str] = {}

    def _selected(self, query: dict[str, str]) -> list[Any]:
        start, stop = self._check_stamp(query.get("from")), self._check_stamp(query.get("until"))
        low = bisect.bisect_left(self.stamps, start) if start else 0  # type: ignore[arg-type]
        high = bisect.bisect_right(self.stamps, stop) if stop else len(self.order)  # type: ignore[arg-type]
        return self.order[low:high]

    def _record(self, item: Any) -> str:
        text = self.xml.get(item.identifier)
        if text is None:
            text = self.xml[item.identifier] = Repository._record(self, item)
        return text

    def answer(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.latency and params.get("verb") == "ListRecords":
            time.sleep(self.latency)
        return Repository.answer(self, params)
