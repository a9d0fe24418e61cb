"""ChangeJournal: group commit of a run's changes-journal lines, on the event loop.

`append` returns once a part object holding the line is in the store (or spooled). Lines
appended within `linger` seconds of each other share one part object
(state/<site>/changes/<run_id>/part-<id>.json), written by one store call; a store
failure reaches every caller whose line was in that part. Waiting for the part holds no
thread: the callers are coroutines of the item pipeline, and a backfill writes one
journal object per handful of records instead of one per record.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

WritePart = Callable[[list[dict[str, Any]]], Awaitable[None]]


class ChangeJournal:
    """Probes, asked every `poll` seconds while lines wait, so that a long `linger` (the
    lines of a fast crawl's seconds, or of a slow, polite crawl, sharing a part) costs no
    wait at the end of a crawl, nor any speed:
    - `quiet`: a callable that says nothing more is on its way (the crawl has no request in
      flight or scheduled): the part is written at once;
    - `crowded`: a callable that says how full the crawl's room for records in flight is
      (pipelines/store.py: Scrapy's scraper slot, 1.0 = full: it then fetches nothing more):
      the part is written once it is full, or half full with `crowd_lines` lines waiting
      (so that records written a moment ago, still in the slot, do not send out a part of
      a few lines).
    A part in flight goes first: its records leave the slot once it is written."""

    def __init__(self, write_part: WritePart, *, linger: float = 0.025,
                 max_lines: int = 500, quiet: Callable[[], bool] | None = None,
                 crowded: Callable[[], float] | None = None, crowd_lines: int = 50,
                 poll: float = 0.1) -> None:
        self.write_part = write_part
        self.linger = linger
        self.max_lines = max_lines
        self.quiet = quiet
        self.crowded = crowded
        self.crowd_lines = crowd_lines
        self.poll = poll
        self._lines: list[dict[str, Any]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._poller: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()
        # a line's id: this journal's random half, then its number (16 hex digits as the
        # drawn ids were; one draw per journal, not a urandom call per record)
        self._id_prefix = secrets.token_hex(4)
        self._numbers = itertools.count()

    async def append(self, line: dict[str, Any]) -> str:
        """Journal one line; returns its id (for `HarvestState.drop_change`)."""
        loop = asyncio.get_running_loop()
        line_id = f"{self._id_prefix}{next(self._numbers):08x}"
        done: asyncio.Future[None] = loop.create_future()
        self._lines.append(line | {"line_id": line_id})
        self._waiters.append(done)
        if len(self._lines) >= self.max_lines:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.linger, self._flush)
            if (self.quiet or self.crowded) is not None and self.poll < self.linger:
                self._poller = loop.call_later(self.poll, self._check_quiet)
        await done
        return line_id

    def _check_quiet(self) -> None:
        self._poller = None
        if not self._lines:
            return
        try:
            quiet = not self._writes and self._let_go()
        except Exception:  # noqa: BLE001 - a failing probe only means: wait for the linger
            quiet = False
        if quiet:
            self._flush()
        else:
            self._poller = asyncio.get_running_loop().call_later(self.poll, self._check_quiet)

    def _let_go(self) -> bool:
        if self.quiet is not None and self.quiet():
            return True
        if self.crowded is None:
            return False
        full = self.crowded()
        return full >= 1.0 or (full >= 0.5 and len(self._lines) >= self.crowd_lines)

    async def drain(self) -> None:
        """Write what is buffered and wait for every part in flight."""
        self._flush()
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        if not self._lines:
            return
        lines, waiters = self._lines, self._waiters
        self._lines, self._waiters = [], []
        task = asyncio.ensure_future(self._write(lines, waiters))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, lines: list[dict[str, Any]],
                     waiters: list[asyncio.Future[None]]) -> None:
        try:
            await self.write_part(lines)
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the part
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
