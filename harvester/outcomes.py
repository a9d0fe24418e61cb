"""Outcomes: what became of the documents a run scheduled, as a plain object.

Every document the spider schedules (a page to fetch, or a record that came whole with a
listing step) ends in exactly one outcome: through the pipelines (stored, unchanged or
dropped by validation), failed (recorded in state/<site>/failed/ and retried by the next
run), or quarantined (kept with the reason). The listing walk (harvester/walk.py) learns
of each, so the backfill's resume cursor moves only past steps whose documents all ended.
"""

from __future__ import annotations

from dataclasses import dataclass

THROUGH = "through"
FAILED = "failed"
QUARANTINED = "quarantined"


@dataclass
class Outcomes:
    limit: int = 0  # --limit: documents scheduled at most (0: no limit)
    scheduled: int = 0
    through: int = 0
    failed: int = 0
    quarantined: int = 0

    def schedule(self) -> None:
        self.scheduled += 1

    def full(self) -> bool:
        """The run scheduled as many documents as --limit allows."""
        return bool(self.limit) and self.scheduled >= self.limit

    def ended(self, outcome: str) -> None:
        if outcome == THROUGH:
            self.through += 1
        elif outcome == FAILED:
            self.failed += 1
        elif outcome == QUARANTINED:
            self.quarantined += 1
        else:
            raise ValueError(f"unknown outcome {outcome!r}")

    @property
    def finished(self) -> int:
        return self.through + self.failed + self.quarantined

    @property
    def pending(self) -> int:
        return self.scheduled - self.finished
