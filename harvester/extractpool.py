"""Extraction in worker processes, fed from the event loop without threads.

A site's `parse_document` is a pure function of the body and URL. `ExtractPool` runs it in
worker processes, so parsing uses another core instead of the reactor thread's (extraction
was ~20% of a backfill's CPU, all of it under the reactor's GIL), and a page that crashes
or hangs the parser costs that page, not the run.

- Each worker is a fresh interpreter (`python -m harvester.extractworker`, ~15 MB: lxml and
  the extractor, nothing of Scrapy), started when the pool is made and again when one dies.
  It gets its socket and no other file of the harvester's. (A forked worker shares the
  harvester's pages at first, but copies them as it allocates: ~30 MB of its own after a
  few hundred pages, which broke the memory target.)
- Jobs and results are pickled over a socket pair. The event loop writes each job straight
  into the non-blocking socket and reads results when the socket is readable: there is no
  feeder or reader thread on this side. (A `ProcessPoolExecutor` prototype lost most of its
  gain to its threads taking the GIL from the reactor; see bench/README.md.) Functions go
  by reference (module and name), so only module-level functions can run.
- A worker runs its jobs in order. If it dies (a crash in the parser, the kernel's OOM
  killer, a kill from outside), or if a job runs past the timeout (the worker is then
  killed), the job it was running is tried once more in a fresh worker; a second failure
  raises `ExtractorCrashed` or `ExtractionTimeout` (both `ExtractionError`s: the spider
  quarantines the page with the reason). Jobs queued behind it go to the fresh worker.
  A worker that dies before it said it is ready (a broken environment, not a page) blames
  no page: the pool logs the error and runs every job inline from then on.
- `workers=0` runs each job inline on the calling thread (one-core machines, debugging).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvester.config import setting, setting_float
from harvester.exceptions import ConfigError, ExtractionTimeout, ExtractorCrashed
from harvester.extractworker import HEADER, READY

logger = logging.getLogger(__name__)

_READ_SIZE = 1 << 20
ATTEMPTS = 2  # tries of one job when its worker dies or times out under it


CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2 CPU quota (containers)


def cgroup_cpus(path: Path = CGROUP_CPU_MAX) -> float | None:
    """The cores a container's CPU quota allows ("200000 100000" -> 2.0); None: no quota."""
    try:
        quota, period = path.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def default_workers(cgroup: Path = CGROUP_CPU_MAX) -> int:
    """One worker when this process may use two or more cores (CPU affinity and a
    container's CPU quota), else none (inline)."""
    try:
        cpus: float = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpus(cgroup)
    if quota is not None:
        cpus = min(cpus, quota)
    return 1 if cpus >= 2 else 0


def parse_workers(value: Any) -> int:
    """HARVESTER_EXTRACT_WORKERS: "auto" or a count >= 0."""
    text = str(value).strip().lower()
    if text in ("", "auto"):
        return default_workers()
    try:
        workers = int(text)
    except ValueError:
        raise ConfigError(f"HARVESTER_EXTRACT_WORKERS must be auto or a number, got {value!r}") from None
    if workers < 0:
        raise ConfigError(f"HARVESTER_EXTRACT_WORKERS must be >= 0, got {workers}")
    return workers


@dataclass
class _Job:
    id: int
    frame: bytes
    future: asyncio.Future[Any]
    attempts: int = 0


@dataclass
class PoolStats:
    jobs: int = 0
    restarts: int = 0  # workers started again after one died or was stopped
    crashed: int = 0  # jobs failed for good because their worker died twice
    timeouts: int = 0  # jobs failed for good because they ran past the timeout twice
    inline: int = 0  # jobs run inline because no worker could start


class _NoWorker(Exception):
    """The worker died before it was ready: the job runs inline."""


class ExtractPool:
    """Runs module-level functions in `workers` worker processes (see module docstring)."""

    def __init__(self, workers: int, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.stats = PoolStats()
        self._workers: list[_Worker] = []
        self._next_id = 0
        self._closed = False
        for _ in range(workers):
            self._workers.append(_Worker(self))

    @classmethod
    def from_settings(cls, settings: Any) -> ExtractPool:
        return cls(parse_workers(setting(settings, "HARVESTER_EXTRACT_WORKERS")),
                   setting_float(settings, "HARVESTER_EXTRACT_TIMEOUT"))

    @property
    def size(self) -> int:
        return len(self._workers)

    @property
    def pids(self) -> list[int]:
        return [worker.pid for worker in self._workers]

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`func(*args, **kwargs)` in a worker; its result, or the exception it raised."""
        if self._closed:
            raise RuntimeError("the extraction pool is closed")
        if not self._workers:
            return func(*args, **kwargs)
        self._next_id += 1
        self.stats.jobs += 1
        payload = pickle.dumps((self._next_id, func, args, kwargs), pickle.HIGHEST_PROTOCOL)
        job = _Job(self._next_id, HEADER.pack(len(payload)) + payload,
                   asyncio.get_running_loop().create_future())
        min(self._workers, key=lambda w: len(w.pending)).submit(job)
        try:
            return await job.future
        except _NoWorker:
            self.stats.inline += 1
            return func(*args, **kwargs)

    def close(self, wait: float = 5.0) -> None:
        """Stop the workers: they exit when their socket closes; killed after `wait` s."""
        self._closed = True
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.detach()
            for job in worker.pending:
                if not job.future.done():
                    job.future.set_exception(RuntimeError("the extraction pool was closed"))
        for worker in workers:
            worker.reap(wait)

    # --- workers --------------------------------------------------------------------------
    def _worker_died(self, dead: _Worker, timed_out: bool) -> None:
        """Called by a worker whose process ended: settle its jobs, start its successor."""
        status = dead.reap(5.0)
        jobs = list(dead.pending)
        dead.pending.clear()
        if self._closed or dead not in self._workers:
            return
        if not dead.ready:  # not a page's fault: the worker cannot run here
            self._give_up(jobs, status)
            return
        successor = _Worker(self)
        self._workers[self._workers.index(dead)] = successor
        self.stats.restarts += 1
        if jobs:
            head = jobs[0]
            head.attempts += 1
            if head.attempts >= ATTEMPTS:
                jobs.pop(0)
                if timed_out:
                    self.stats.timeouts += 1
                    error: Exception = ExtractionTimeout(
                        f"extraction ran past {self.timeout:g} s, twice; its worker was stopped")
                else:
                    self.stats.crashed += 1
                    error = ExtractorCrashed(
                        f"the extraction worker died twice on this page ({status})")
                if not head.future.done():
                    head.future.set_exception(error)
        for job in jobs:
            successor.submit(job)

    def _give_up(self, jobs: list[_Job], status: str) -> None:
        logger.error("the extraction worker could not start (%s); pages are parsed in this "
                     "process from now on", status)
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.detach()
            jobs += worker.pending
            worker.pending.clear()
            worker.reap(5.0)
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(_NoWorker())


class _Worker:
    """One worker process and the parent's end of its socket, driven by the event loop."""

    def __init__(self, pool: ExtractPool) -> None:
        parent, child = socket.socketpair()
        # the worker imports the modules of the functions it is sent: the same path as here
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "harvester.extractworker", str(child.fileno())],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, env=env)
        finally:
            child.close()
        parent.setblocking(False)
        self.pool = pool
        self.pid = self.proc.pid
        self.sock = parent
        self.ready = False
        self.pending: collections.deque[_Job] = collections.deque()
        self._out = bytearray()
        self._in = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writing = False
        self._timer: asyncio.TimerHandle | None = None
        self._timed_out = False

    # --- sending --------------------------------------------------------------------------
    def submit(self, job: _Job) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self.sock.fileno(), self._readable)
        self.pending.append(job)
        self._out += job.frame
        if len(self.pending) == 1:
            self._arm()
        self._flush()

    def _flush(self) -> None:
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:  # the worker is gone; the reader sees it and settles the jobs
            self._out.clear()
            sent = 0
        del self._out[:sent]
        assert self._loop is not None
        if self._out and not self._writing:
            self._loop.add_writer(self.sock.fileno(), self._flush)
            self._writing = True
        elif not self._out and self._writing:
            self._loop.remove_writer(self.sock.fileno())
            self._writing = False

    # --- receiving ------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            data = self.sock.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.detach()
            self.pool._worker_died(self, self._timed_out)
            return
        self._in += data
        while len(self._in) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._in)
            end = HEADER.size + size
            if len(self._in) < end:
                break
            message = pickle.loads(memoryview(self._in)[HEADER.size:end])
            del self._in[:end]
            if message == READY:
                self.ready = True
                self._arm()  # jobs are timed from when the worker can run them
                continue
            job_id, ok, value = message
            job = self.pending.popleft()
            assert job_id in (job.id, -1), (job.id, job_id)
            if not job.future.done():
                if ok:
                    job.future.set_result(value)
                else:
                    job.future.set_exception(value)
            self._arm()

    # --- timeout --------------------------------------------------------------------------
    def _arm(self) -> None:
        """Time the job at the head of the queue: the one the worker is running."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.pending and self.ready and self._loop is not None and self.pool.timeout > 0:
            self._timer = self._loop.call_later(self.pool.timeout, self._expire, self.pending[0])

    def _expire(self, job: _Job) -> None:
        if self.pending and self.pending[0] is job:
            self._timed_out = True
            self._kill()

    # --- ending ---------------------------------------------------------------------------
    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    def detach(self) -> None:
        """Stop watching the socket and close it (the worker then reads EOF and exits)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.sock.fileno() >= 0:
            if self._loop is not None:
                self._loop.remove_reader(self.sock.fileno())
                if self._writing:
                    self._loop.remove_writer(self.sock.fileno())
                    self._writing = False
            self.sock.close()

    def reap(self, wait: float) -> str:
        """Wait for the process to end (killing it after `wait` s); how it ended."""
        try:
            code = self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self._kill()
            code = self.proc.wait()
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"
