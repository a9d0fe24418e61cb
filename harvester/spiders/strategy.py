"""How a run's crawl is shared: the strategy the spider is given (HARVESTER_CRAWL_STRATEGY).

`LocalCrawl`, the default, is a crawl of one process: it keeps the plan it makes and the
whole listing walk to itself. A shared crawl (harvester.distributed.strategy.SharedCrawl,
which --redis workers run) decides the plan once for all its workers, spreads the walk over
them and releases their claims on work. The spider calls these hooks and nothing of the
strategy's insides; a strategy never reaches into the spider's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from harvester.runplan import WalkPlan


class LocalCrawl:
    count_checks = True  # the process sees the whole listing: count checks and sweeps
    withdraw_checks = True  # the end-of-backfill check of stored records not met
    keeps_cursor = True  # the campaign's resume cursor follows the walk
    page_items = True  # a listing page's whole records may go to the pipelines as one item
    lookahead = True  # a chained listing's next page may be asked for before a page is read

    @classmethod
    def from_crawler(cls, crawler: Any) -> LocalCrawl:
        return cls()

    # --- the plan (blocking: called on the store threads) ---------------------------------
    def resolve_mode(self, resolve: Callable[[], tuple[str, dict[str, Any] | None]],
                     asked: str, limited: bool, load_campaign: Callable[[], Any]
                     ) -> tuple[str, dict[str, Any] | None]:
        return resolve()

    def resolve_walk(self, resolve: Callable[[], WalkPlan], save: Callable[[Any], None],
                     load: Callable[[], Any]) -> WalkPlan:
        return resolve()

    # --- work done --------------------------------------------------------------------
    def released(self, meta: dict[str, Any] | None) -> None:
        """A request's work is through (its record stored, or it failed or was
        quarantined)."""

    async def listing_outputs(self, response: Any, outputs: AsyncIterator[Any]
                              ) -> AsyncIterator[Any]:
        """What a listing page's callback yields, on its way to the engine."""
        async for output in outputs:
            yield output

    # --- the walk, crawl-wide ---------------------------------------------------------
    def agree(self, **facts: str) -> None:
        """Facts of the walk every worker of the crawl must know (listing_exhausted,
        walk_ended, listing_error)."""

    def listing_problem(self, own: str) -> str:
        return own

    def at_close(self, exhausted: bool, ended: bool) -> tuple[bool, bool]:
        """(listing walked to its end, incremental walk ended), as the run's close sees
        them: this process's own walk."""
        return exhausted, ended
