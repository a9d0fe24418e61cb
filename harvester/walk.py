"""ListingWalk: one run's walk of a source's listing, as a plain object.

It keeps what the walk has met (the listing steps of its first pass in order, the
documents each still has pending, the distinct documents listed, the largest count a page
showed, what each page showed, the passes over the listing) and decides where the walk goes
at its end: another pass (a sweep), the end, or a stop with a reason. The spider turns its
answers into requests, stats and log lines; harvester/listingwalk.py decides each single
step. Unit-tested without a crawl: tests/unit/test_walk.py.

The count checks, sweeps and the resume cursor are explained in docs/architecture.md
("Design notes: the listing walk").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SWEEP = "sweep"  # walk the listing again from its first step
STOP = "stop"  # the walk cannot be completed: stop with `reason` (exit status 6)
SHORT = "short"  # complete, though the listing counts entries it does not show
DONE = "done"  # complete


@dataclass(frozen=True)
class End:
    what: str  # SWEEP | STOP | SHORT | DONE
    reason: str = ""
    missing: int = 0  # SHORT: documents counted but never shown


@dataclass
class ListingWalk:
    max_sweeps: int = 2
    count_checks: bool = True  # False for a shared crawl's worker: it sees part of the walk
    limited: bool = False  # the run has a --limit: no count check, no completion
    origin: Any = None  # the listing's first cursor
    from_origin: bool = False  # this run's walk began at the first cursor
    listing_total: int | None = None  # the first count a page showed
    most_listed: int | None = None  # the largest count a page showed
    listed: set[str] = field(default_factory=set)  # distinct documents met
    walk_found: set[str] = field(default_factory=set)  # incremental: new uploads met
    sweeps: int = 0  # passes after the first
    sweep_found: int = 0  # documents the current pass found that earlier ones did not
    unstable: bool = False  # a page showed other documents in a later pass
    digests: dict[str, str] = field(default_factory=dict)  # what each first-pass page showed
    steps: list[dict[str, Any]] = field(default_factory=list)  # first pass, in walk order
    steps_done: int = 0
    cursor_reset: bool = False  # the next run walks from the start again
    exhausted: bool = False  # the walk reached the listing's end
    ended: bool = False  # incremental: reached documents harvested before the walk
    error: str = ""  # why the walk stopped before its end

    # --- steps and their documents ----------------------------------------------------
    def step_listed(self, cursor: Any, following: Any, sweep: int) -> int | None:
        """A listing step was read; its index in the first pass (None for a later pass)."""
        if sweep:
            return None
        self.steps.append({"cursor": cursor, "next": following, "pending": 0})
        return len(self.steps) - 1

    def doc_scheduled(self, step: int | None) -> None:
        if step is not None and 0 <= step < len(self.steps):
            self.steps[step]["pending"] += 1

    def doc_finished(self, step: int | None) -> None:
        if step is not None and 0 <= step < len(self.steps):
            self.steps[step]["pending"] -= 1

    def advance(self) -> tuple[bool, Any]:
        """(moved, cursor): the resume cursor moved past steps whose documents are done."""
        if self.cursor_reset:
            return False, None
        done = self.steps_done
        while done < len(self.steps) and self.steps[done]["pending"] <= 0:
            done += 1
        if done == self.steps_done:
            return False, None
        self.steps_done = done
        return True, self.steps[done - 1]["cursor"]

    # --- pages --------------------------------------------------------------------------
    def page_read(self, label: str, urls: list[str], total: int | None, digest: str,
                  sweep: int) -> list[str]:
        """A listing page showed `urls` (and the count `total`); the URLs no page of this
        run showed before."""
        if total is not None:
            if self.listing_total is None:
                self.listing_total = total
            self.most_listed = max(self.most_listed or 0, total)
        fresh = [u for u in dict.fromkeys(urls) if u not in self.listed]
        self.listed.update(fresh)
        if sweep:
            self.sweep_found += len(fresh)
            if self.digests.get(label, digest) != digest:
                self.unstable = True
        else:
            self.digests[label] = digest
        return fresh

    def unreadable(self, reason: str, url: str) -> bool:
        """The walk stops here; True for the first reason (the one the run reports)."""
        if self.error:
            return False
        self.error = f"{reason}: {url}"
        return True

    # --- the end --------------------------------------------------------------------------
    def another_pass(self, sweep: int) -> bool:
        """A walk short of the count goes over the listing again: after its first pass, and
        after a pass that found documents or saw pages change, up to max_sweeps."""
        return self.sweeps < self.max_sweeps and (sweep == 0 or bool(self.sweep_found)
                                                  or self.unstable)

    def passes_disagree(self) -> bool:
        """The passes did not settle: the last found documents the earlier ones missed, or
        a page showed other documents from one pass to the next."""
        return self.sweeps > 0 and (bool(self.sweep_found) or self.unstable)

    def begin_sweep(self) -> int:
        self.sweeps += 1
        self.sweep_found = 0
        return self.sweeps

    def backfill_end(self, sweep: int, backfill: bool) -> End:
        """The walk reached the listing's end (see the module docstring)."""
        total, seen = self.most_listed, len(self.listed)
        short = (backfill and self.count_checks and self.from_origin and not self.limited
                 and total is not None and seen < total)
        if short and self.another_pass(sweep):
            return End(SWEEP, f"the listing counts {total} documents, its pages showed "
                              f"{seen} distinct ones")
        if short and self.passes_disagree():
            self.cursor_reset = True
            return End(STOP, f"the listing counts {total} documents, but {self.sweeps + 1} "
                             f"passes over its pages showed {seen} distinct ones, and its pages "
                             "show other documents from one pass to the next (its order "
                             "changes between requests); the next run walks it again")
        self.exhausted = True
        if short:
            return End(SHORT, missing=total - seen)  # type: ignore[operator]
        return End(DONE)

    def incremental_end(self, sweep: int, baseline: int | None) -> End:
        """The incremental walk reached documents harvested before it (see the module
        docstring). A count short for another reason (documents withdrawn meanwhile) ends
        the walk as usual."""
        total = self.most_listed
        expected = None if baseline is None or total is None else total - int(baseline)
        found = len(self.walk_found)
        short = (self.count_checks and not self.limited and expected is not None
                 and found < expected)
        if short and self.another_pass(sweep):
            return End(SWEEP, f"the listing's count grew by {expected} since the store was "
                              f"complete, the walk met {found} new uploads")
        if short and self.passes_disagree():
            return End(STOP, f"the listing's count grew by {expected} since the store was "
                             f"complete, but {self.sweeps + 1} passes met {found} new uploads, "
                             "and its pages show other documents from one pass to the next (its "
                             "order changes between requests); the next run walks it again")
        self.ended = True
        return End(DONE)
