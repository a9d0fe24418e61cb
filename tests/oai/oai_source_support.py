"""Helpers of the OAI-PMH source tests: the real `harvester` CLI run against a repository,
and what a harvest left in a local store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HARVESTER = [sys.executable, "-m", "harvester.cli"]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "HARVESTER_BACKOFF_BASE=0.01", "-s", "LOG_LEVEL=INFO",
        "-s", "HARVESTER_PROGRESS=off", "-s", "HARVESTER_EXTRACT_WORKERS=0"]
NAME = "look"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def last_line(self) -> str:
        lines = [x for x in self.stderr.splitlines() if x.strip()]
        return lines[-1] if lines else ""


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180,
        cwd: Path | None = None) -> Run:
    full_env = dict(os.environ)
    full_env.setdefault("HARVESTER_SPOOL_DIR", "/tmp/oai-tests-spool")
    full_env.update(env or {})
    repo_root = Path(__file__).resolve().parents[2]
    full_env["PYTHONPATH"] = str(repo_root) + os.pathsep + full_env.get("PYTHONPATH", "")
    proc = subprocess.run([*HARVESTER, *args], capture_output=True, text=True, timeout=timeout,
                          env=full_env, cwd=cwd)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def harvest_args(endpoint: str, store: str, *extra: str, name: str = NAME) -> list[str]:
    return ["harvest", "oai", "--endpoint", endpoint, "--name", name, "--store", store,
            *FAST, *extra]


def harvest(endpoint: str, store: str, *extra: str, name: str = NAME,
            env: dict[str, str] | None = None) -> Run:
    return cli(*harvest_args(endpoint, store, *extra, name=name), env=env)


def records(store: Path, name: str = NAME) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted((store / "records" / name).glob("*.json")):
        record = json.loads(path.read_text("utf-8"))
        out[record["record_id"]] = record
    return out


def reports(store: Path, name: str = NAME) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text("utf-8")) for p in (store / "runs" / name).glob("*.json")]
    return sorted(found, key=lambda r: r["run_id"])


def feed(store: Path, run_id: str, name: str = NAME) -> list[dict[str, Any]]:
    path = store / "runs" / name / f"{run_id}.changes.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def snapshot(root: Path, under: str) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns
            for p in (root / under).rglob("*") if p.is_file()}
