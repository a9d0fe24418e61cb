"""Helpers of the provider tests: the real `harvester harvest` and `harvester serve oai`
commands run as child processes on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HARVESTER = [sys.executable, "-m", "harvester.cli"]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "HARVESTER_DOWNLOAD_FILES=False",
        "-s", "LOG_LEVEL=WARNING"]
_SERVING = re.compile(r"OAI-PMH 2\.0 at (http://\S+/oai)")


@dataclass
class Harvested:
    root: Path
    changed_after: str  # a datestamp after the first run and before the second one
    records: dict[str, dict[str, Any]]  # record_id -> the stored record (after both runs)
    edited: list[str]
    withdrawn: list[str]
    runs: list[str] = field(default_factory=list)


def backfill(store: str, base_url: str, env: dict[str, str] | None = None) -> None:
    run = subprocess.run([*HARVESTER, "harvest", "wilson", "--store", store, "--base-url",
                          base_url, "--mode", "backfill", *FAST], capture_output=True, text=True,
                         timeout=300, env={**os.environ, **(env or {})})
    assert run.returncode == 0, run.stderr[-3000:]


def stored_records(root: Path, site: str = "wilson") -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted((root / "records" / site).glob("*.json")):
        record = json.loads(path.read_text("utf-8"))
        out[record["record_id"]] = record
    return out


@dataclass
class Provider:
    url: str
    proc: subprocess.Popen[str]
    log: list[str]


@contextmanager
def provider(store: str, *settings: str, env: dict[str, str] | None = None,
             timeout: float = 120) -> Iterator[Provider]:
    """`harvester serve oai --store STORE --port 0 [-s ...]` until the block ends."""
    args = [a for s in settings for a in ("-s", s)]
    proc = subprocess.Popen([*HARVESTER, "serve", "oai", "--store", store, "--host", "127.0.0.1",
                             "--port", "0", *args], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    assert proc.stderr is not None
    log: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            m = _SERVING.search(line)
            if m and not found:
                found.append(m.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        ready.wait(timeout)
        assert found, f"the provider did not start (exit {proc.poll()}): {''.join(log)[-3000:]}"
        yield Provider(found[0], proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(10)
        proc.stderr.close()
