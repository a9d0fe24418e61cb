"""IoBatcher: blocking store calls made at the same moment, run together on one store thread.

A local store's calls are a few short system calls each, so the run makes them on the
reactor thread (`RunContext.inline`): handing each one to a thread costs more, in GIL
hand-overs, than the call itself. But creating a file is not always short: on a filesystem
busy with other writers (or ext4 without a journal, which checks every inode freed in the
last minutes on each create) it took up to a millisecond, all of it blocking the reactor
thread: no response read, no page parsed, no request sent meanwhile. The records of one
listing page reach the store at the same moment (their journal part written, they resume
together), so their writes are handed to a store thread as one batch: one hand-over for a
page, and the kernel's time runs beside the crawl instead of in front of it.

A batch is run while the next one gathers: at most one is in flight, so the calls keep
the order they were made in, and the batches grow as large as the moment needs.

Off by default (HARVESTER_STORE_BATCH_IO): where a create takes tens of microseconds, the
store thread's Python work (encoding, paths) competes with the reactor for the GIL, and
an OAI-PMH backfill of 10,000 records ran a few per cent slower with it on (four runs out
of four, this machine); it is for stores on filesystems whose creates block (network
filesystems, busy disks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


def _run_all(calls: list[Call]) -> list[tuple[bool, Any]]:
    """On the store thread: each call's (ok, result or exception), in order."""
    results: list[tuple[bool, Any]] = []
    for fn, args, _ in calls:
        try:
            results.append((True, fn(*args)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's await
            results.append((False, exc))
    return results


class IoBatcher:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._waiting: list[Call] = []
        self._in_flight = False
        self._scheduled = False
        self.batches = 0  # for stats and tests
        self.calls = 0

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` on the store thread, with the calls made meanwhile; its result (or
        its exception) here."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((fn, args, future))
        if not self._in_flight and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._start, loop)  # the calls of this moment join first
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        if self._in_flight or not self._waiting:
            return
        batch, self._waiting = self._waiting, []
        self._in_flight = True
        self.batches += 1
        self.calls += len(batch)
        try:
            done = loop.run_in_executor(self.executor, _run_all, batch)
        except Exception as exc:  # noqa: BLE001 - the pool is shut down: every caller hears it
            self._in_flight = False
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        done.add_done_callback(lambda finished: self._finish(loop, batch, finished))

    def _finish(self, loop: asyncio.AbstractEventLoop, batch: list[Call],
                finished: asyncio.Future[list[tuple[bool, Any]]]) -> None:
        self._in_flight = False
        if finished.cancelled():  # the executor shut down under it
            for _, _, future in batch:
                future.cancel()
        else:
            error = finished.exception()
            results = finished.result() if error is None else [(False, error)] * len(batch)
            for (_, _, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():  # its caller was cancelled
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        if self._waiting:
            self._start(loop)
