"""distributed(spidercls): an archive spider whose run-wide decisions are the crawl's.

A single process keeps the harvest mode, the backfill campaign and the listing cursor to
itself; the workers of a shared crawl must agree on them:
- mode and campaign: the first worker resolves them (as one process would) under a
  crawl-wide lock and writes them to the crawl's info; the others adopt them, so all
  workers tag seen markers with one campaign id;
- seeding: every worker's start() yields the failed-document retries and the first listing
  page; the crawl's seen-set drops the copies, so each is queued once however many workers
  start (and a worker joining later adds nothing);
- listing cursor: not kept. Which listing pages are done is spread over the workers; a
  resumed campaign walks the listing from its start again, and documents whose seen marker
  carries the campaign are not fetched again (one listing fetch per ten documents);
- claims (kill-safety, see coordinator.py): a document's claim is released when its item
  went through the pipelines (or it failed or was quarantined), a listing page's once the
  requests it produced are all in the frontier;
- campaign completion: only the worker that found the crawl done (the finalizer) completes
  the campaign, and only if the listing was walked to its end and no worker ran with a
  --limit. Otherwise the campaign stays open and the next run fetches what is missing.
- a listing page that cannot be read (no document links where some were due): the worker
  that met it stops the walk there and records the reason in the crawl's info; every
  worker's run then ends with exit status 6 and that reason;
- incremental walk: the first worker resolves it (a new one, or the open one an earlier
  run left) and the others adopt its id; the finalizer completes it when a worker's walk
  reached documents harvested before it (or the listing's end) and no worker had a limit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request, signals
from scrapy.http import Response
from twisted.python.failure import Failure

from harvester.distributed.coordinator import CrawlCoordinator
from harvester.distributed.scheduler import CLAIM, PARENT

logger = logging.getLogger(__name__)


class DistributedSpiderMixin:
    """Mixed in before an ArchiveSpider subclass (see `distributed`)."""

    coordinator: CrawlCoordinator
    _walk_saved: bool  # ArchiveSpider's: the incremental walk is recorded as running
    sweeps_enabled = False  # no worker sees the whole listing: no count check, no sweeps
    # The end-of-campaign check for withdrawn documents runs in single-process backfills
    # only; the finalizer completes a distributed campaign as before (README "Withdrawn").
    withdraw_checks = False

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)  # type: ignore[misc]
        spider.coordinator = CrawlCoordinator.of(crawler)
        # item_error: released by _fail, once the document is recorded as failed
        for signal in (signals.item_scraped, signals.item_dropped):
            crawler.signals.connect(spider._release_item, signal=signal)
        return spider

    # --- claims -------------------------------------------------------------------------
    def _release_item(self, item: Any, response: Any = None, **kwargs: Any) -> None:
        """The document's record is through the pipelines: its page is done."""
        if isinstance(response, Response):
            self.coordinator.release(response.meta.get(CLAIM))

    async def _fail(self, url: str, reason: str, meta: dict[str, Any]) -> None:
        await super()._fail(url, reason, meta)  # type: ignore[misc]
        self.coordinator.release(meta.get(CLAIM))

    async def _quarantine(self, response: Response, reason: str, error: str) -> None:
        await super()._quarantine(response, reason, error)  # type: ignore[misc]
        self.coordinator.release(response.meta.get(CLAIM))

    def listing_failed(self, failure: Failure) -> list[Request]:
        out: list[Request] = super().listing_failed(failure)  # type: ignore[misc]
        if self.listing_exhausted:  # a 404 past the end; before the crawl can be found done
            self.coordinator.agree(listing_exhausted="1")
        self.coordinator.release(failure.request.meta.get(CLAIM))  # type: ignore[attr-defined]
        return out

    # --- a listing page that could not be read stops the crawl's walk, for every worker ----
    def listing_unreadable(self, reason: str, url: str) -> None:
        super().listing_unreadable(reason, url)  # type: ignore[misc]
        self.coordinator.agree(listing_error=self.listing_error)  # type: ignore[attr-defined]

    def listing_problem(self) -> str:
        """This worker's, or another worker's of the same crawl: every worker's run then
        ends with exit status 6, not only the one that met the page."""
        own = super().listing_problem()  # type: ignore[misc]
        if own:
            return str(own)
        try:
            return self.coordinator.info().listing_error
        except Exception as exc:  # noqa: BLE001 - Redis gone at the end: this worker's view
            logger.warning("could not read the crawl's state from Redis: %s", exc)
            return ""

    # --- mode and campaign: the first worker decides --------------------------------------
    def _resolve_mode(self) -> tuple[str, dict[str, Any] | None]:
        """Blocking (runs on the store thread pool, like the base method)."""
        coordinator = self.coordinator
        with coordinator.lock("mode"):
            agreed = coordinator.info()
            if not agreed.mode:
                mode, campaign = super()._resolve_mode()  # type: ignore[misc]
                coordinator.agree(mode=mode, campaign=campaign["id"] if campaign else "",
                                  limited="1" if self.limit else "0")  # type: ignore[attr-defined]
                logger.info("crawl %s: mode %s decided by this worker", coordinator.crawl, mode)
                return mode, campaign
        if self.limit:  # type: ignore[attr-defined]
            coordinator.agree(limited="1")
        if self.mode_arg not in ("auto", agreed.mode):  # type: ignore[attr-defined]
            logger.warning("crawl %s runs in mode %s: joining it in that mode, not %s",
                           coordinator.crawl, agreed.mode, self.mode_arg)  # type: ignore[attr-defined]
        campaign = None
        if agreed.campaign:
            campaign = self.ctx.state.load_backfill()  # type: ignore[attr-defined]
            if not campaign or campaign.get("id") != agreed.campaign:
                raise RuntimeError(f"crawl {coordinator.crawl} works on backfill campaign "
                                   f"{agreed.campaign}, but the store holds "
                                   f"{(campaign or {}).get('id')}: another crawl of the "
                                   "same store is running with a different Redis")
        return agreed.mode, campaign

    def _resolve_walk(self) -> dict[str, Any]:
        """Blocking: the first worker resolves the incremental walk; the others adopt it,
        so every worker tags its seen markers with one walk id."""
        coordinator = self.coordinator
        with coordinator.lock("walk"):
            agreed = coordinator.info()
            if agreed.walk:
                walk: dict[str, Any] = {"id": agreed.walk, "status": "running"}
                stored = self.ctx.state.load_incremental()  # type: ignore[attr-defined]
                if stored and stored.get("id") == agreed.walk and "previous" in stored:
                    walk["previous"] = stored["previous"]
            else:
                walk = super()._resolve_walk()  # type: ignore[misc]
                if not self._walk_saved:  # a new walk: recorded as running, for all workers
                    self.ctx.state.save_incremental(walk)  # type: ignore[attr-defined]
                coordinator.agree(walk=walk["id"])
            self._walk_saved = True
            return walk

    # --- listing ------------------------------------------------------------------------
    async def parse_listing(self, response: Response) -> AsyncIterator[Any]:
        claim = response.meta.get(CLAIM)
        follow_ups = 0
        async for output in super().parse_listing(response):  # type: ignore[misc]
            if isinstance(output, Request) and claim:
                output.meta[PARENT] = claim
                follow_ups += 1
            yield output
        self.coordinator.listing_parsed(claim, follow_ups)
        if self.listing_exhausted:
            # before this worker can go idle, so before the crawl can be found done
            self.coordinator.agree(listing_exhausted="1")
        if self.walk_ended:
            self.coordinator.agree(walk_ended="1")

    def _maybe_advance_cursor(self) -> None:
        """No per-process cursor in a shared crawl (see the module docstring)."""

    def closed(self, reason: str) -> None:
        coordinator = self.coordinator
        complete = walk_complete = False
        if coordinator.finalizer:
            info = coordinator.info()
            complete = info.listing_exhausted and not info.limited
            walk_complete = info.walk_ended and not info.limited
            if info.reaped:
                logger.warning("crawl %s: %d worker(s) died; the others did the %d request(s) "
                               "they held", coordinator.crawl, info.reaped, info.requeued)
        # the base completes the campaign when its own walk reached the listing's end:
        # here that is the whole crawl's, and only the finalizer's to record
        self.listing_exhausted = complete
        self.walk_ended = walk_complete
        super().closed(reason)  # type: ignore[misc]


def distributed(spidercls: type) -> type:
    """The spider class a Redis worker runs: same name, crawl-wide decisions."""
    return type(spidercls.__name__, (DistributedSpiderMixin, spidercls),
                {"__module__": __name__, "__doc__": spidercls.__doc__})
