"""Request accounting of the sample server (control requests are not counted)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: Counter[str] = Counter()
        self._paths: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._bytes = 0

    def reset(self) -> None:
        with self._lock:
            for counter in (self._kinds, self._paths, self._statuses, self._faults):
                counter.clear()
            self._bytes = 0

    def record(self, kind: str, url: str, status: int, nbytes: int) -> None:
        with self._lock:
            self._kinds[kind] += 1
            self._paths[url] += 1
            self._statuses[str(status)] += 1
            self._bytes += nbytes

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """{"requests": total, "by_kind": {...}, "by_path": {...}, "by_status": {...},
        "faults": {kind: n}, "bytes": body bytes sent}"""
        with self._lock:
            return {
                "requests": sum(self._kinds.values()),
                "by_kind": dict(self._kinds),
                "by_path": dict(self._paths),
                "by_status": dict(self._statuses),
                "faults": dict(self._faults),
                "bytes": self._bytes,
            }
