"""The run plan: which mode a run harvests in, its backfill campaign or incremental walk,
and when they complete. Plain functions over the harvest state (state/<site>/backfill.json,
incremental.json); the spider calls them (through its crawl strategy, so that the workers of
a shared crawl agree on one plan).

- backfill: walks the whole listing in a *campaign*; documents already stored or confirmed
  in the campaign are not fetched again, so an interrupted backfill resumes where it
  stopped (at the campaign's `resume` cursor, the source's). A backfill started after the
  last one completed begins a new campaign that revisits every document, which is how
  edited documents are picked up.
- incremental: reads the listing from the newest uploads and stops at the first page
  holding a document harvested before this *walk* (a newest-first source), or walks what
  the source's cursor bounds (OAI-PMH's `from`). A walk completes when it reaches such a
  page (or the listing's end) in a run that finished without --limit; a run stopped
  earlier leaves the walk open, and the next incremental run resumes it.
- auto: backfill while a campaign is unfinished, incremental once one completed (the
  campaign says so: no listing of the records); with no campaign at all, backfill when the
  store holds no record of the source, else incremental. (A store whose records were
  removed but whose state was kept is backfilled with `--mode backfill`.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from harvester.exceptions import ConfigError
from harvester.keys import record_prefix
from harvester.state import HarvestState
from pipelines.storage import Store

logger = logging.getLogger(__name__)

MODES = ("auto", "incremental", "backfill")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return mode


def resolve_mode(state: HarvestState, store: Store, site: str, asked: str, run_id: str,
                 now: str) -> tuple[str, dict[str, Any] | None]:
    """Blocking: the run's mode and its running backfill campaign (a new one is saved)."""
    campaign = state.load_backfill(planning=True)
    running = campaign if campaign and campaign.get("status") == "running" else None
    mode = asked
    empty = False  # the store was listed and held no record of the site
    if mode == "auto":
        if running:
            mode = "backfill"
        elif campaign and campaign.get("status") == "complete":
            mode = "incremental"  # the store was harvested whole: no need to list it
        else:
            empty = next(iter(store.list(record_prefix(site))), None) is None
            mode = "backfill" if empty else "incremental"
    if mode == "backfill" and running is None:
        running = {"id": run_id, "status": "running", "resume": None, "started_at": now}
        state.save_backfill(running)
        if empty:  # its end has no stored record to check for withdrawal (withdrawals.py)
            state.began_on_empty = run_id
    return mode, running


@dataclass
class WalkPlan:
    walk: dict[str, Any]
    resumed: bool  # an open walk of an earlier run
    saved: bool = False  # recorded as running in the store already

    def __post_init__(self) -> None:
        self.saved = self.saved or self.resumed


def resolve_walk(state: HarvestState, run_id: str, now: str) -> WalkPlan:
    """Blocking: the incremental walk this run does, a new one or an open one resumed. A
    new walk is not saved here: it is recorded once a document of it may be stored."""
    walk = state.load_incremental(planning=True)
    if walk and walk.get("status") == "running" and walk.get("id"):
        logger.info("resuming the incremental walk %s (started %s), which an earlier run "
                    "did not finish", walk["id"], walk.get("started_at"))
        return WalkPlan(walk, resumed=True)
    new: dict[str, Any] = {"id": run_id, "status": "running", "started_at": now}
    campaign = state.load_backfill(planning=True)
    baseline = latest_total(walk, campaign)
    if baseline is not None:  # the listing's count when the store was last complete
        new["baseline_total"] = baseline
    previous = latest_complete(walk, campaign)
    if previous is not None:  # what the source kept of the last complete walk
        new["previous"] = previous
    return WalkPlan(new, resumed=False)


def campaign_resume(campaign: dict[str, Any] | None) -> Any:
    """Where an open backfill campaign resumes: its stored cursor (the older "cursor" page
    number of campaigns written before cursors were the source's), None: from the start."""
    if not campaign:
        return None
    if campaign.get("resume") is not None:
        return campaign["resume"]
    legacy = campaign.get("cursor")
    if isinstance(legacy, int) and legacy >= 0:
        return legacy
    return None


def latest_complete(walk: dict[str, Any] | None, campaign: dict[str, Any] | None
                    ) -> dict[str, Any] | None:
    """The source state kept by the latest complete walk or backfill campaign."""
    done = [(str(x.get("finished_at") or ""), x["source_state"]) for x in (walk, campaign)
            if x and x.get("status") == "complete" and isinstance(x.get("source_state"), dict)]
    return max(done, key=lambda d: d[0])[1] if done else None


def latest_total(walk: dict[str, Any] | None, campaign: dict[str, Any] | None) -> int | None:
    """The listing's count recorded by the latest complete walk or backfill campaign."""
    done = [(str(x.get("finished_at") or ""), x["listing_total"]) for x in (walk, campaign)
            if x and x.get("status") == "complete" and isinstance(x.get("listing_total"), int)]
    return max(done)[1] if done else None


def completed(plan: dict[str, Any], now: str, listing_total: int | None) -> dict[str, Any]:
    """The campaign or walk, complete: its end time and the listing's count (the next
    walk's baseline for the count check), when a count is known."""
    done = dict(plan, status="complete", finished_at=now)
    if listing_total is not None:
        done["listing_total"] = listing_total
    return done
