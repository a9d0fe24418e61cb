"""Exit statuses of a harvest, and the close reasons that lead to them: defined once.

The README's "Exit status of `harvester harvest`" table says what each means to a user; the
run report records the status and its one-line reason (`exit_code`, `exit_reason`), and the
CLI returns it.
"""

from __future__ import annotations

from dataclasses import dataclass

OK = 0
STOPPED = 1  # the run did not finish (shutdown, error, the store unreadable at start)
USAGE = 2  # bad arguments or configuration (the CLI, before any crawl)
SPOOLED = 3  # the store was unreachable: writes wait in the local spool
SITE_CHANGED = 4  # field coverage fell sharply: the site's markup probably changed
CHALLENGED = 5  # the bot manager kept answering with challenge pages
LISTING_UNREADABLE = 6  # a listing page yielded no document links where some were due
WITHDRAW_GUARD = 7  # too many stored records answered 404/410: nothing was withdrawn

# Close reasons (Scrapy's `finish_reason`) the harvester's own parts give.
CHALLENGE_CLOSE = "challenge_persisted"
GUARD_CLOSE = "withdraw_guard"
STORE_DOWN = "store_unavailable"


@dataclass(frozen=True)
class Outcome:
    status: str  # the report's "finished" | "stopped"
    code: int
    reason: str  # one line, '' when the run finished cleanly


def decide(finish_reason: str, *, listing_problem: str = "", stop_reason: str = "",
           pending: int = 0, spool_dir: str = "", alerts: list[str] | None = None) -> Outcome:
    """The run's outcome from how it closed and what its parts reported, most severe first."""
    if listing_problem and finish_reason == "finished":
        return Outcome("stopped", LISTING_UNREADABLE,
                       f"the listing could not be read, so the walk stopped: {listing_problem}")
    if finish_reason == CHALLENGE_CLOSE:
        return Outcome("stopped", CHALLENGED,
                       "the site kept answering with bot-challenge pages; try again later")
    if finish_reason == GUARD_CLOSE:
        return Outcome("stopped", WITHDRAW_GUARD, stop_reason or
                       "too many stored records answered 404/410: nothing withdrawn")
    if finish_reason != "finished":
        return Outcome("stopped", STOPPED,
                       stop_reason or f"the run stopped early ({finish_reason})")
    if pending:
        return Outcome("finished", SPOOLED,
                       f"the store could not be written: {pending} objects wait in the local "
                       f"spool {spool_dir} and are written by the next run")
    if alerts:
        return Outcome("finished", SITE_CHANGED,
                       "field coverage fell sharply: " + ", ".join(alerts))
    return Outcome("finished", OK, "")
