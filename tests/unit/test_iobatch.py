"""IoBatcher: the calls of one moment run together, in order, on one store thread; each
caller gets its own result or its own exception; calls made while a batch runs form the
next one."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from harvester.iobatch import IoBatcher


def test_calls_of_one_moment_share_a_batch_and_keep_their_order() -> None:
    done: list[int] = []
    threads: set[int] = set()

    def call(n: int) -> int:
        threads.add(threading.get_ident())
        done.append(n)
        return n * n

    async def run() -> tuple[list[int], int]:
        batcher = IoBatcher(ThreadPoolExecutor(4))
        results = await asyncio.gather(*(batcher.run(call, n) for n in range(50)))
        return results, batcher.batches

    results, batches = asyncio.run(run())
    assert results == [n * n for n in range(50)]
    assert done == list(range(50))
    assert batches == 1
    assert threading.get_ident() not in threads


def test_an_exception_reaches_only_its_own_caller() -> None:
    def call(n: int) -> int:
        if n == 3:
            raise OSError("disk full")
        return n

    async def run() -> list[object]:
        batcher = IoBatcher(ThreadPoolExecutor(1))
        return await asyncio.gather(*(batcher.run(call, n) for n in range(6)),
                                    return_exceptions=True)

    results = asyncio.run(run())
    assert results[:3] == [0, 1, 2] and results[4:] == [4, 5]
    assert isinstance(results[3], OSError) and str(results[3]) == "disk full"


def test_calls_made_while_a_batch_runs_form_the_next_batch() -> None:
    release = threading.Event()
    running = threading.Event()
    order: list[str] = []

    def slow(name: str) -> str:
        running.set()
        release.wait(5)
        order.append(name)
        return name

    def quick(name: str) -> str:
        order.append(name)
        return name

    async def run() -> tuple[list[str], int]:
        batcher = IoBatcher(ThreadPoolExecutor(4))
        first = asyncio.ensure_future(batcher.run(slow, "first"))
        while not running.is_set():
            await asyncio.sleep(0.001)
        later = [asyncio.ensure_future(batcher.run(quick, f"later{n}")) for n in range(5)]
        await asyncio.sleep(0.05)
        assert not any(f.done() for f in later)  # one batch in flight at a time
        release.set()
        results = [await first] + [await f for f in later]
        return results, batcher.batches

    results, batches = asyncio.run(run())
    assert results == ["first"] + [f"later{n}" for n in range(5)]
    assert order == results
    assert batches == 2


def test_a_failed_hand_over_fails_every_call_of_the_batch() -> None:
    pool = ThreadPoolExecutor(1)
    pool.shutdown()

    async def run() -> None:
        batcher = IoBatcher(pool)
        await batcher.run(len, "x")

    with pytest.raises(RuntimeError):
        asyncio.run(run())
