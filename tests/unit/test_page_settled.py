"""pipelines.base._all_settled: a page's documents started in turn, only the ones that wait
handed to tasks. It answers as asyncio.gather(..., return_exceptions=True) does: every
outcome in the documents' order (values and exceptions alike), the waiting ones run to
their end, a cancel reaching the ones still waiting."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pipelines.base import _all_settled


class Boom(Exception):
    pass


async def at_once(value: Any) -> Any:
    return value


async def fails_at_once() -> Any:
    raise Boom("at once")


async def waits(value: Any, hops: int = 2) -> Any:
    for _ in range(hops):
        await asyncio.sleep(0)
    return value


async def waits_on(future: asyncio.Future[Any]) -> Any:
    return await future + 1


async def fails_after_waiting() -> Any:
    await asyncio.sleep(0)
    raise Boom("after waiting")


def _kinds(results: list[Any]) -> list[Any]:
    return [("raised", str(r)) if isinstance(r, BaseException) else r for r in results]


def _mixed() -> list[Any]:
    return [at_once(1), waits(2), fails_at_once(), waits(4, hops=5), fails_after_waiting(),
            at_once(6)]


def test_the_outcomes_are_gathers_in_the_documents_order() -> None:
    async def both() -> tuple[list[Any], list[Any]]:
        ours = await _all_settled(_mixed())
        theirs = await asyncio.gather(*_mixed(), return_exceptions=True)
        return ours, list(theirs)

    ours, theirs = asyncio.run(both())
    assert _kinds(ours) == _kinds(theirs) == [
        1, 2, ("raised", "at once"), 4, ("raised", "after waiting"), 6]


def test_documents_start_in_order_and_only_waiting_ones_get_tasks() -> None:
    started: list[int] = []

    async def doc(n: int) -> int:
        started.append(n)
        if n % 2:
            await asyncio.sleep(0)
        return n * 10

    async def go() -> tuple[list[Any], int]:
        before = len(asyncio.all_tasks())
        pending = asyncio.ensure_future(_all_settled([doc(n) for n in range(6)]))
        await asyncio.sleep(0)  # the page's coroutine has started every document
        tasks = len(asyncio.all_tasks()) - before - 1  # (the page's own task)
        return await pending, tasks

    results, tasks = asyncio.run(go())
    assert results == [0, 10, 20, 30, 40, 50]
    assert started == [0, 1, 2, 3, 4, 5]
    assert tasks == 3  # the documents that wait (1, 3, 5); gather would make 6


def test_a_value_sent_to_a_waiting_document_reaches_it() -> None:
    async def go() -> list[Any]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, future.set_result, 41)
        return await _all_settled([waits_on(future), at_once("x")])

    assert asyncio.run(go()) == [42, "x"]


def test_a_cancel_reaches_the_documents_still_waiting() -> None:
    cleaned: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            cleaned.append("slow")

    async def go() -> None:
        page = asyncio.ensure_future(_all_settled([at_once(1), slow()]))
        await asyncio.sleep(0.01)
        page.cancel()
        with pytest.raises(asyncio.CancelledError):
            await page

    asyncio.run(go())
    assert cleaned == ["slow"]


def test_an_interrupt_is_raised_and_no_document_is_left_unstarted_open() -> None:
    async def interrupted() -> None:
        raise KeyboardInterrupt

    async def go() -> None:
        later = at_once(3)
        with pytest.raises(KeyboardInterrupt):
            await _all_settled([at_once(1), interrupted(), later])
        assert later.cr_frame is None  # closed, not left to warn "never awaited"

    asyncio.run(go())
