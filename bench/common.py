"""Shared helpers of the benchmarks: child processes timed from outside, with their peak RSS.

Every benchmark compares two things measured side by side in one run on this machine
(absolute numbers vary with the machine and its load; the ratios are what to compare).
A child's wall time is measured around the whole process (interpreter start included,
the same for both sides) and its peak RSS is the kernel's ru_maxrss from wait4(), plus,
when the child starts processes of its own (the harvester's extraction worker), the peak
of their private memory (USS: Private_Clean + Private_Dirty of /proc/PID/smaps_rollup,
sampled every 50 ms). Pages a forked worker still shares with its parent are counted once,
in the parent's RSS; what the worker adds is counted on top. The harvester's modules are
byte-compiled first, as an installed package's are (compile_sources).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def compile_sources() -> None:
    """Byte-compile the harvester's own modules, as an installed package has them (pip
    compiles at install): run from the source tree with PYTHONDONTWRITEBYTECODE set (as on
    this machine), every harvester process and extraction worker compiled ~150 modules at
    its start, ~0.5-1 s of a 2,000-record OAI-PMH backfill that its rivals, installed
    packages, never pay."""
    import compileall

    for package in ("harvester", "pipelines"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


compile_sources()
CONCURRENCY = 8  # CONCURRENT_REQUESTS(_PER_DOMAIN) of both sides in the harvest benchmarks
SPEED = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", f"CONCURRENT_REQUESTS={CONCURRENCY}",
         "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={CONCURRENCY}", "-s", "LOG_LEVEL=WARNING"]
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "AKIABENCHKEY00000000",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-not-real",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass
class Child:
    seconds: float
    peak_rss_mb: float  # the process's peak RSS + its own children's peak USS
    code: int
    stdout: str
    stderr: str
    children_uss_mb: float = 0.0  # the part of peak_rss_mb that its children add
    cpu_seconds: float = 0.0  # user + system CPU of the process and its reaped children


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def _uss_kb(pid: int) -> int:
    """Private memory of a process in KB (0 once it is gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1])
    except OSError:
        return 0
    return total


def run_child(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 3600,
              sample_children: bool = False) -> Child:
    """Run a command; wall time around the whole process and its peak RSS (wait4), plus the
    sampled peak USS of the processes it starts when `sample_children`."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=full_env, cwd=ROOT)
        deadline = started + timeout
        children_peak_kb = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if sample_children:
                children_peak_kb = max(children_peak_kb,
                                       sum(_uss_kb(c) for c in _descendants(proc.pid)))
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        children_mb = children_peak_kb / 1024
        return Child(seconds, usage.ru_maxrss / 1024 + children_mb, proc.returncode,
                     out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                     children_mb, usage.ru_utime + usage.ru_stime)


def harvest_cmd(store: str, base_url: str, *extra: str) -> list[str]:
    return [PYTHON, "-m", "harvester.cli", "harvest", "wilson", "--store", store,
            "--base-url", base_url, *SPEED, *extra]


def fetch_only_cmd(base_url: str) -> list[str]:
    return [PYTHON, str(ROOT / "bench" / "fetch_only.py"), base_url, *SPEED]


def harvest(store: str, base_url: str, workdir: Path, *extra: str,
            env: dict[str, str] | None = None, sample_children: bool = False) -> Child:
    """One harvester run (the CLI, as a user runs it); raises when it fails."""
    full_env = {"HARVESTER_SPOOL_DIR": str(workdir / "spool"),
                "HARVESTER_PROGRESS": "off", **(env or {})}
    child = run_child(harvest_cmd(store, base_url, *extra), env=full_env,
                      sample_children=sample_children)
    if child.code != 0:
        raise RuntimeError(f"harvest failed ({child.code}): {child.stderr[-2000:]}")
    return child


def fetch_only(base_url: str, sample_children: bool = False) -> tuple[Child, dict[str, Any]]:
    child = run_child(fetch_only_cmd(base_url), sample_children=sample_children)
    if child.code != 0:
        raise RuntimeError(f"fetch-only spider failed ({child.code}): {child.stderr[-2000:]}")
    return child, json.loads(child.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """`python -m moto.server` in its own process on loopback; yields the endpoint URL."""
    port = free_port()
    proc = subprocess.Popen([PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto server did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def ceph_server() -> Iterator[str]:
    """A throwaway Ceph RGW on loopback (tests/services/ceph_rgw.py), its user holding the
    FAKE_AWS credentials; yields the endpoint URL."""
    sys.path.insert(0, str(ROOT / "tests"))
    from services.ceph_rgw import CephRGW

    with CephRGW.start(access_key=FAKE_AWS["AWS_ACCESS_KEY_ID"],
                       secret_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"]) as rgw:
        yield rgw.endpoint_url


def s3_server(kind: str) -> Any:
    """The S3 server of a benchmark: "ceph" (Ceph RGW, the default) or "moto"."""
    return moto_server() if kind == "moto" else ceph_server()


def create_bucket(endpoint: str, name: str) -> None:
    import boto3

    os.environ.update(FAKE_AWS)
    client = boto3.session.Session().client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=name)
    client.close()


_DEFERRED: list[Path] = []  # work dirs removed when the benchmark's process exits


def _remove_deferred() -> None:
    while _DEFERRED:
        shutil.rmtree(_DEFERRED.pop(), ignore_errors=True)


atexit.register(_remove_deferred)


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A fresh directory for one side's round, removed when the benchmark exits, not when
    the round ends. This machine's filesystem (ext4 without a journal) skips inodes freed in
    the last 1 to 6 minutes when it creates a file, checking each such inode of the group on
    every create: after a round's tens of thousands of files were deleted, creating a file
    cost up to 0.9 ms instead of 0.03 ms, so whichever side ran next was slowed down by the
    round before it (the kernel's `recently_deleted`, seen with perf). Deleting at exit keeps
    one round's clean-up out of the next round's measurement."""
    path = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    try:
        yield path
    finally:
        _DEFERRED.append(path)


class Heartbeat:
    """Prints a dot every `every` seconds while a long step runs (so CI logs keep moving)."""

    def __init__(self, every: float = 30.0) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            print(".", end="", flush=True, file=sys.stderr)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def write_result(name: str, rows: list[dict[str, Any]]) -> Path:
    """Each benchmark leaves its rows in bench/results/<name>.json for run_all's table."""
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return out
