"""`--workers N` and `--redis URL` at the command line: child commands, errors, exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed_support import FAST, HARVESTER, record_ids, reports

from harvester.cli import build_parser
from harvester.commands.harvest import build_settings
from harvester.distributed.workers import run_commands, worker_command
from harvester.sample import SampleControl, serve_subprocess


def test_worker_command_repeats_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVESTER_DOWNLOAD_DELAY", "3")  # the environment is inherited as is
    args = build_parser().parse_args([
        "harvest", "wilson", "--redis", "redis://10.0.0.5:6379/2", "--workers", "4",
        "--store", "s3://bucket/prefix", "--mode", "backfill", "-s", "DOWNLOAD_DELAY=0.5"])
    cmd = worker_command("wilson", build_settings(args))
    assert cmd[:5] == [sys.executable, "-m", "harvester.cli", "harvest", "wilson"]
    pairs = dict(cmd[i + 1].split("=", 1) for i in range(5, len(cmd), 2) if cmd[i] == "-s")
    assert pairs["HARVESTER_REDIS_URL"] == "redis://10.0.0.5:6379/2"
    assert pairs["HARVESTER_STORE"] == "s3://bucket/prefix"
    assert pairs["HARVESTER_MODE"] == "backfill"
    assert pairs["DOWNLOAD_DELAY"] == "0.5"
    assert pairs["HARVESTER_WORKERS"] == "1"  # a worker never starts workers of its own
    assert "SCHEDULER" not in pairs
    # the child's command line parses and yields the same run
    child = build_parser().parse_args(cmd[3:])
    assert build_settings(child).get("HARVESTER_STORE") == "s3://bucket/prefix"


def test_run_commands_fails_when_one_worker_fails() -> None:
    ok, bad = [sys.executable, "-c", "pass"], [sys.executable, "-c", "raise SystemExit(3)"]
    assert run_commands([ok, ok]) == 0
    assert run_commands([ok, bad, ok]) == 3


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HARVESTER, *args], capture_output=True, text=True, timeout=60)


def test_workers_without_redis_is_an_error(tmp_path: Path) -> None:
    proc = run_cli("harvest", "wilson", "--store", str(tmp_path), "--workers", "2")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "harvester harvest: --workers needs --redis URL: the workers share the crawl there")


def test_unreachable_redis_is_one_line(tmp_path: Path) -> None:
    proc = run_cli("harvest", "wilson", "--store", str(tmp_path), "--redis",
                   "redis://127.0.0.1:1/0")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "harvester harvest: cannot reach Redis at redis://127.0.0.1:1/0")
    assert not (tmp_path / "runs").exists()


def test_join_only_without_a_crawl_exits_quietly(redis_url: str, tmp_path: Path) -> None:
    proc = run_cli("harvest", "wilson", "--store", str(tmp_path), "--redis", redis_url,
                   "-s", "HARVESTER_REDIS_JOIN_ONLY=true")
    assert proc.returncode == 0
    assert proc.stderr.strip() == "harvester harvest: no crawl of wilson runs in Redis: nothing to join"
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def archive40() -> Iterator[tuple[str, SampleControl]]:
    with serve_subprocess(size=40) as served:
        yield served


def test_workers_flag_runs_local_workers(archive40: tuple[str, SampleControl], redis_url: str,
                                         tmp_path: Path) -> None:
    base_url, control = archive40
    store = tmp_path / "store"
    proc = subprocess.run(
        [*HARVESTER, "harvest", "wilson", "--store", str(store), "--base-url", base_url, *FAST,
         "--redis", redis_url, "--workers", "2"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert record_ids(store) == sorted(control.archive().record_ids())
    runs = reports(store)
    assert len(runs) == 2 and {r["status"] for r in runs} == {"finished"}
    assert len({r["pid"] for r in runs}) == 2
