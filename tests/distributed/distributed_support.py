"""Helpers of the distributed crawl tests: worker processes of the real CLI, store checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HARVESTER = [sys.executable, "-m", "harvester.cli"]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "HARVESTER_PROGRESS=off",
        "-s", "LOG_LEVEL=INFO", "-s", "HARVESTER_REDIS_HEARTBEAT=0.5",
        "-s", "HARVESTER_REDIS_WORKER_TIMEOUT=4", "-s", "HARVESTER_REDIS_IDLE_POLL=0.2"]
# page fetches: what the sample server counts as listing or document pages
PAGE_KINDS = ("listing", "document", "redirect", "node")


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    def wait(self, timeout: float = 180) -> int:
        return self.proc.wait(timeout=timeout)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text("utf-8", "replace").splitlines()
        return "\n".join(text[-lines:])


def worker_cmd(store: Path, base_url: str, redis_url: str | None, *args: str) -> list[str]:
    cmd = [*HARVESTER, "harvest", "wilson", "--store", str(store), "--base-url", base_url, *FAST]
    if redis_url:
        cmd += ["--redis", redis_url]
    return [*cmd, *args]


def start(cmd: list[str], log: Path) -> Worker:
    env = dict(os.environ, HARVESTER_SPOOL_DIR=str(log.parent / f"spool-{log.stem}"))
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    return Worker(proc, log)


def start_workers(n: int, store: Path, base_url: str, redis_url: str, logs: Path,
                  *args: str) -> list[Worker]:
    logs.mkdir(parents=True, exist_ok=True)
    cmd = worker_cmd(store, base_url, redis_url, *args)
    return [start(cmd, logs / f"worker{i}.log") for i in range(n)]


def wait_all(workers: list[Worker], timeout: float = 180) -> list[int]:
    deadline = time.monotonic() + timeout
    return [w.wait(timeout=max(1.0, deadline - time.monotonic())) for w in workers]


def record_ids(store: Path, site: str = "wilson") -> list[str]:
    return sorted(p.stem for p in (store / "records" / site).glob("*.json"))


def versions(store: Path) -> list[Path]:
    return sorted(p for p in (store / "versions").rglob("*") if p.is_file())


def reports(store: Path, site: str = "wilson") -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((store / "runs" / site).glob("*.json"))]


def changes_counter(store: Path, site: str = "wilson") -> Counter[str]:
    """How often each record id appears across every run's changes feed."""
    seen: Counter[str] = Counter()
    for path in (store / "runs" / site).glob("*.changes.jsonl"):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                seen[json.loads(line)["record_id"]] += 1
    return seen


def page_fetches(stats: dict[str, Any]) -> int:
    return sum(int(stats["by_kind"].get(kind, 0)) for kind in PAGE_KINDS)


def campaign(store: Path, site: str = "wilson") -> dict[str, Any]:
    return dict(json.loads((store / "state" / site / "backfill.json").read_text()))


def explain_missing(store: Path, expected: list[str], by_path: dict[str, int],
                    logs: list[Path]) -> str:
    """What is known of each expected record missing from the store: how often the server
    served its page, the store's files that name it (seen marker, failed entry,
    quarantine), the worker log lines that name it. For a failing test's message."""
    missing = sorted(set(expected) - set(record_ids(store)))
    found = [p for p in store.rglob("*") if p.is_file() and "records" not in p.parts]
    lines = [f"missing records: {missing}"]
    for rid in missing[:5]:
        lines.append(f"{rid}: served {[(p, n) for p, n in by_path.items() if rid in p]}")
        lines += [f"  {p.relative_to(store)}" for p in found
                  if rid.encode() in p.read_bytes()[:100_000]]
        for log in logs:
            lines += [f"  {log.name}: {line[:300]}"
                      for line in log.read_text("utf-8", "replace").splitlines() if rid in line]
    return "\n".join(lines)
