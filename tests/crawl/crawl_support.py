"""Helpers for crawl tests: run the real `harvester` CLI against the sample archive."""

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
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "HARVESTER_BACKOFF_BASE=0.01",
        "-s", "HARVESTER_CHALLENGE_PAUSE=0.01", "-s", "LOG_LEVEL=INFO"]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def harvest(store: str, base_url: str, *args: str, env: dict[str, str] | None = None,
            timeout: float = 240) -> Run:
    cmd = [*HARVESTER, "harvest", "wilson", "--store", store, "--base-url", base_url, *FAST, *args]
    full_env = dict(os.environ)
    full_env["HARVESTER_SPOOL_DIR"] = full_env.get("HARVESTER_SPOOL_DIR") or str(
        Path(store if not store.startswith("s3://") else "/tmp").parent / "spool")
    full_env.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def local_records(root: Path, site: str = "wilson") -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted((root / "records" / site).glob("*.json")):
        record = json.loads(path.read_text("utf-8"))
        out[record["record_id"]] = record
    return out


def latest_report(reports: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(reports, key=lambda r: r["run_id"])[-1]


def local_reports(root: Path, site: str = "wilson") -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (root / "runs" / site).glob("*.json")]


def assert_matches_ground_truth(records: dict[str, dict[str, Any]],
                                expected: dict[str, dict[str, Any]]) -> None:
    assert sorted(records) == sorted(expected)
    for rid, exp in expected.items():
        got = records[rid]
        for name, value in exp.items():
            if name == "files":
                assert [f["url"] for f in got["files"]] == [f["url"] for f in value], rid
            else:
                assert got[name] == value, (rid, name)
        assert got["site"] == "wilson"
        assert len(got["content_sha256"]) == 64


def snapshot(root: Path) -> dict[str, int]:
    """Every object of a local store with its modification time (ns)."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")
            if p.is_file() and ".tmp" not in p.parts}
