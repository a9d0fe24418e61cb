"""SharedCrawl: the crawl strategy of a Redis worker (harvester/spiders/strategy.py).

The workers of a shared crawl agree on the plan (the first worker decides the mode, the
campaign and the incremental walk under a crawl-wide lock; the others adopt them), spread
the walk (no per-process cursor, no count checks, no end-of-backfill withdrawal check; a
source may split it into branches the workers walk in parallel: harvester.source.FanOut),
release their claims as work is done (kill-safety: coordinator.py), share a listing that
cannot be read (every worker exits 6), and leave the completion of the campaign or walk to
the finalizer, once every branch of the walk stopped. docs/architecture.md ("Design notes:
a shared crawl") says why.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from scrapy import Request, signals
from scrapy.http import Response

from harvester.distributed.coordinator import CrawlCoordinator
from harvester.distributed.scheduler import CLAIM, PARENT
from harvester.listingwalk import branch_of
from harvester.runplan import WalkPlan
from harvester.spiders.strategy import LocalCrawl

logger = logging.getLogger(__name__)


class SharedCrawl(LocalCrawl):
    count_checks = False
    withdraw_checks = False
    keeps_cursor = False
    page_items = False  # a page's claim counts its records one item each (_item_through)
    lookahead = False  # a guessed page must not be taken from the shared queue by another worker

    def __init__(self, coordinator: CrawlCoordinator) -> None:
        self.coordinator = coordinator

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedCrawl:
        strategy = cls(CrawlCoordinator.of(crawler))
        # item_error: released by the spider's failure path, once recorded as failed
        for signal in (signals.item_scraped, signals.item_dropped):
            crawler.signals.connect(strategy._item_through, signal=signal)
        return strategy

    def _item_through(self, item: Any, response: Any = None, **kwargs: Any) -> None:
        """The document's record is through the pipelines: its request is done. A record
        that came whole with a listing page is one of the page's follow-ups: the page's
        claim is released once its requests are queued and its records through."""
        if not isinstance(response, Response):
            return
        if response.meta.get("kind") == "listing":
            claim = response.meta.get(CLAIM)
            if claim:
                self.coordinator.follow_up_queued(claim)
        else:
            self.coordinator.release(response.meta.get(CLAIM))

    # --- the plan: the first worker decides -------------------------------------------
    def resolve_mode(self, resolve: Callable[[], tuple[str, dict[str, Any] | None]],
                     asked: str, limited: bool, load_campaign: Callable[[], Any]
                     ) -> tuple[str, dict[str, Any] | None]:
        coordinator = self.coordinator
        with coordinator.lock("mode"):
            agreed = coordinator.info()
            if not agreed.mode:
                mode, campaign = resolve()
                coordinator.agree(mode=mode, campaign=campaign["id"] if campaign else "",
                                  limited="1" if limited else "0")
                logger.info("crawl %s: mode %s decided by this worker", coordinator.crawl, mode)
                return mode, campaign
        if limited:
            coordinator.agree(limited="1")
        if asked not in ("auto", agreed.mode):
            logger.warning("crawl %s runs in mode %s: joining it in that mode, not %s",
                           coordinator.crawl, agreed.mode, asked)
        campaign = None
        if agreed.campaign:
            campaign = load_campaign()
            if not campaign or campaign.get("id") != agreed.campaign:
                raise RuntimeError(f"crawl {coordinator.crawl} works on backfill campaign "
                                   f"{agreed.campaign}, but the store holds "
                                   f"{(campaign or {}).get('id')}: another crawl of the "
                                   "same store is running with a different Redis")
        return agreed.mode, campaign

    def resolve_walk(self, resolve: Callable[[], WalkPlan], save: Callable[[Any], None],
                     load: Callable[[], Any]) -> WalkPlan:
        """The first worker resolves the incremental walk (and records a new one as
        running, for all workers); the others adopt it, so every worker tags its seen
        markers with one walk id."""
        coordinator = self.coordinator
        with coordinator.lock("walk"):
            agreed = coordinator.info()
            if agreed.walk:
                walk: dict[str, Any] = {"id": agreed.walk, "status": "running"}
                stored = load()
                if stored and stored.get("id") == agreed.walk and "previous" in stored:
                    walk["previous"] = stored["previous"]
                return WalkPlan(walk, resumed=False, saved=True)
            plan = resolve()
            if not plan.saved:
                save(plan.walk)
            coordinator.agree(walk=plan.walk["id"])
            return WalkPlan(plan.walk, resumed=plan.resumed, saved=True)

    # --- work done --------------------------------------------------------------------
    def released(self, meta: dict[str, Any] | None) -> None:
        meta = meta or {}
        claim = meta.get(CLAIM)
        if meta.get("kind") == "listing":
            if claim and self.coordinator.parsed_here(claim):  # a record of it failed
                self.coordinator.follow_up_queued(claim)
                return
            # the listing request failed (past the end, or the walk stops): its branch
            # goes no further
            self.coordinator.branch_stopped(branch_of(meta.get("walk_prior")))
        self.coordinator.release(claim)

    async def listing_outputs(self, response: Any, outputs: AsyncIterator[Any]
                              ) -> AsyncIterator[Any]:
        """The page's follow-ups: its claim travels with each request (released once all
        are queued and its whole records are through the pipelines), and the walk's
        branches it begins are recorded before they are queued, the branch it ends after."""
        coordinator = self.coordinator
        claim = response.meta.get(CLAIM)
        branch = branch_of(response.meta.get("walk_prior"))
        coordinator.parsing(claim)
        follow_ups, continued = 0, False
        async for output in outputs:
            if isinstance(output, Request):
                if output.meta.get("kind") == "listing":
                    following = branch_of(output.meta.get("walk_prior"))
                    if following == branch:
                        continued = True
                    else:
                        coordinator.branch_planned(following)
                if claim:
                    output.meta[PARENT] = claim
                    follow_ups += 1
            elif output is not None and claim:
                follow_ups += 1  # a record: its item_scraped (or failure) counts it done
            yield output
        if not continued:
            coordinator.branch_stopped(branch)
        coordinator.listing_parsed(claim, follow_ups)

    # --- the walk, crawl-wide ---------------------------------------------------------
    def agree(self, **facts: str) -> None:
        self.coordinator.agree(**facts)

    def listing_problem(self, own: str) -> str:
        """This worker's, or another worker's of the same crawl: every worker's run then
        ends with exit status 6, not only the one that met the page."""
        if own:
            return own
        try:
            return self.coordinator.info().listing_error
        except Exception as exc:  # noqa: BLE001 - Redis gone at the end: this worker's view
            logger.warning("could not read the crawl's state from Redis: %s", exc)
            return ""

    def at_close(self, exhausted: bool, ended: bool) -> tuple[bool, bool]:
        """The whole crawl's, and only the finalizer's to record: a branch of the walk
        reached the listing's end, and every branch stopped (none left by a page that broke
        its callback), with no listing error and no --limit."""
        coordinator = self.coordinator
        if not coordinator.finalizer:
            return False, False
        info = coordinator.info()
        if info.reaped:
            logger.warning("crawl %s: %d worker(s) died; the others did the %d request(s) "
                           "they held", coordinator.crawl, info.reaped, info.requeued)
        if info.open_branches:
            logger.warning("crawl %s: %d branch(es) of the walk never reached their end: the "
                           "campaign or walk stays open", coordinator.crawl,
                           len(info.open_branches))
        walked = not info.open_branches and not info.listing_error and not info.limited
        return info.listing_exhausted and walked, info.walk_ended and walked
