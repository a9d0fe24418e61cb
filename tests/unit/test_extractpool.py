"""ExtractPool: jobs run in forked worker processes; results, errors, crashes and hangs come
back to the caller, the pool keeps working, and a closed pool leaves no process behind."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harvester.exceptions import ConfigError, ExtractionTimeout, ExtractorCrashed, NotADocument
from harvester.extractpool import ExtractPool, cgroup_cpus, default_workers, parse_workers


# --- jobs (module level: they travel by reference) ------------------------------------------
def square_in(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


def not_a_document(reason: str) -> None:
    raise NotADocument(reason)


def crash_once(marker: str, value: int) -> int:
    """Dies the first time (the marker file does not exist yet), answers the second time."""
    if not os.path.exists(marker):
        Path(marker).write_text("crashed")
        os.kill(os.getpid(), signal.SIGSEGV)
    return value


def always_crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def sleep_for(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


def open_descriptors() -> list[str]:
    return sorted(os.listdir("/proc/self/fd"))


def big_result(size: int) -> bytes:
    return b"x" * size


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def pool() -> Any:
    made: list[ExtractPool] = []

    def make(workers: int = 1, timeout: float = 60.0) -> ExtractPool:
        made.append(ExtractPool(workers, timeout))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_jobs_run_in_the_worker_and_come_back_in_order(pool: Any) -> None:
    p = pool(1)

    async def main() -> list[tuple[int, int]]:
        return list(await asyncio.gather(*(p.run(square_in, i) for i in range(50))))

    results = asyncio.run(main())
    assert [r[0] for r in results] == [i * i for i in range(50)]
    assert {r[1] for r in results} == set(p.pids)
    assert os.getpid() not in p.pids


def test_results_larger_than_a_socket_buffer_arrive_whole(pool: Any) -> None:
    p = pool(2)

    async def main() -> list[bytes]:
        return list(await asyncio.gather(*(p.run(big_result, 3_000_000 + i) for i in range(4))))

    assert [len(b) for b in asyncio.run(main())] == [3_000_000 + i for i in range(4)]


def test_an_error_comes_back_with_its_type_and_message(pool: Any) -> None:
    p = pool(1)

    async def main() -> int:
        with pytest.raises(NotADocument, match="empty body"):
            await p.run(not_a_document, "empty body")
        return (await p.run(square_in, 3))[0]

    assert asyncio.run(main()) == 9
    assert p.stats.restarts == 0


def test_a_worker_dying_once_costs_nothing(pool: Any, tmp_path: Path) -> None:
    p = pool(1)
    first = p.pids[0]
    marker = str(tmp_path / "crashed")

    async def main() -> list[Any]:
        return list(await asyncio.gather(p.run(crash_once, marker, 7), p.run(square_in, 5)))

    crashed, queued = asyncio.run(main())
    assert crashed == 7  # tried again in a fresh worker
    assert queued[0] == 25  # the job queued behind it went to the fresh worker
    assert Path(marker).exists()
    assert p.stats.restarts == 1 and p.stats.crashed == 0
    assert p.pids != [first] and _gone(first)


def test_a_page_that_kills_its_worker_twice_fails_alone(pool: Any) -> None:
    p = pool(1)

    async def main() -> list[Any]:
        return list(await asyncio.gather(p.run(always_crash), p.run(square_in, 4),
                                         p.run(square_in, 6), return_exceptions=True))

    crashed, a, b = asyncio.run(main())
    assert isinstance(crashed, ExtractorCrashed)
    assert "SIGSEGV" in str(crashed)
    assert (a[0], b[0]) == (16, 36)
    assert p.stats.crashed == 1 and p.stats.restarts == 2


@pytest.mark.timeout(60)  # two tries of 3 s, not the job's 120 s: only against a hang
def test_a_hung_job_is_stopped_at_the_timeout(pool: Any) -> None:
    # a fresh worker imports a job's module within the job's time (this test module, with
    # pytest: up to a second on a busy machine), hence 3 s rather than a fraction
    p = pool(1, timeout=3)
    first = p.pids[0]

    async def main() -> Any:
        with pytest.raises(ExtractionTimeout, match="past 3 s"):
            await p.run(sleep_for, 120)
        return await p.run(square_in, 2)

    after = asyncio.run(main())
    assert after[0] == 4 and after[1] not in (first, os.getpid())
    assert p.stats.timeouts == 1
    assert p.stats.restarts == 2 and _gone(first)  # both tries' workers were stopped


def test_workers_hold_none_of_the_parents_files(pool: Any, tmp_path: Path) -> None:
    with open(tmp_path / "open-in-parent", "wb"):
        p = pool(1)

        async def main() -> list[str]:
            return list(await p.run(open_descriptors))

        fds = asyncio.run(main())
    # stdin/stdout/stderr, the job socket, and the descriptor listdir itself opened
    assert len(fds) <= 5, fds


def test_a_worker_that_cannot_start_blames_no_page(pool: Any, monkeypatch: Any) -> None:
    """A broken environment (the worker dies before it is ready) is not a page's fault: the
    pool says so in the log and parses inline from then on."""
    monkeypatch.setattr(sys, "executable", "/bin/false")
    p = pool(1)

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(p.run(square_in, i) for i in range(3))))

    results = asyncio.run(main())
    assert [r for r, _pid in results] == [0, 1, 4]
    assert {pid for _r, pid in results} == {os.getpid()}
    assert p.size == 0 and p.stats.inline == 3 and p.stats.crashed == 0


def test_close_ends_the_workers(pool: Any) -> None:
    p = pool(2)
    pids = p.pids
    assert len(pids) == 2 and all(not _gone(pid) for pid in pids)
    p.close()
    assert all(_gone(pid) for pid in pids)


def test_no_workers_runs_inline() -> None:
    p = ExtractPool(0)
    value, pid = asyncio.run(p.run(square_in, 3))
    assert (value, pid) == (9, os.getpid())
    p.close()


def test_worker_count_setting() -> None:
    assert parse_workers("auto") == default_workers()
    assert parse_workers("0") == 0 and parse_workers(3) == 3
    for bad in ("many", "-1"):
        with pytest.raises(ConfigError):
            parse_workers(bad)


def test_auto_counts_a_containers_cpu_quota(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cores = len(os.sched_getaffinity(0))
    cpu_max.write_text("max 100000\n")
    assert cgroup_cpus(cpu_max) is None
    assert default_workers(cpu_max) == (1 if cores >= 2 else 0)
    cpu_max.write_text("150000 100000\n")  # 1.5 cores: parsing stays in the crawler
    assert cgroup_cpus(cpu_max) == 1.5
    assert default_workers(cpu_max) == 0
    cpu_max.write_text("400000 100000\n")
    assert default_workers(cpu_max) == (1 if cores >= 2 else 0)
    assert cgroup_cpus(tmp_path / "missing") is None
