"""Run the real `harvester` CLI against a look-alike site and read what it stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lookalike_site import LookalikeSite

HARVESTER = [sys.executable, "-m", "harvester.cli"]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "HARVESTER_BACKOFF_BASE=0.01",
        "-s", "HARVESTER_CHALLENGE_PAUSE=0.01", "-s", "HARVESTER_PROGRESS=off"]
NO_FILES = ["-s", "HARVESTER_DOWNLOAD_FILES=False"]
SKIP_COMPARE = {"files"}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    run_id: str | None = None  # the run report this harvest wrote (None: it wrote none)

    @property
    def reason(self) -> str:
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


def _env(store: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HARVESTER_SPOOL_DIR"] = str(store.parent / "spool")
    return env


def _run_ids(store: Path) -> set[str]:
    folder = store / "runs" / "wilson"
    return {p.stem for p in folder.glob("*.json")} if folder.exists() else set()


def harvest(site: LookalikeSite, store: Path, *args: str, timeout: float = 180) -> Run:
    """One `harvester harvest wilson` run against the site. Run ids of runs started in the
    same second do not sort by start, so the run's own report is found by what it added."""
    cmd = [*HARVESTER, "harvest", "wilson", "--store", str(store), "--base-url", site.base_url,
           *FAST, *args]
    before = _run_ids(store)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(store))
    added = sorted(_run_ids(store) - before)
    return Run(proc.returncode, proc.stdout, proc.stderr, added[-1] if added else None)


def check(site: LookalikeSite, *args: str, timeout: float = 60) -> Run:
    cmd = [*HARVESTER, "check", "wilson", "--base-url", site.base_url, "-s", "DOWNLOAD_DELAY=0", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def records(store: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((store / "records" / "wilson").glob("*.json")):
        record = json.loads(path.read_text("utf-8"))
        out[record["record_id"]] = record
    return out


def report(store: Path, run_id: str | None) -> dict[str, Any]:
    assert run_id, "the harvest wrote no run report"
    result: dict[str, Any] = json.loads((store / "runs" / "wilson" / f"{run_id}.json").read_text())
    return result


def changes(store: Path, run_id: str) -> list[dict[str, Any]]:
    path = store / "runs" / "wilson" / f"{run_id}.changes.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def field_mismatches(got: dict[str, dict[str, Any]], site: LookalikeSite,
                     files: bool = True) -> list[str]:
    """Every difference between the stored records and the site's ground truth, one line each."""
    problems = []
    expected = site.expected()
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if missing:
        problems.append(f"missing records: {missing}")
    if extra:
        problems.append(f"records the site does not hold: {extra}")
    docs = {d.record_id: d for d in site.corpus.docs}
    for rid in sorted(set(expected) & set(got)):
        rec, exp = got[rid], expected[rid]
        for name, value in exp.items():
            if rec.get(name) != value:
                problems.append(f"{rid} {name}: got {rec.get(name)!r}, expected {value!r}")
        if not rec["url"].endswith(docs[rid].path):
            problems.append(f"{rid} url: got {rec['url']!r}, expected .../{docs[rid].path}")
        for text in rec["texts"]:
            if "History and Public Policy Program" in text["text"] or "Skip to content" in text["text"]:
                problems.append(f"{rid} texts carry chrome or rights: {text['text'][:80]!r}")
        if files:
            want = sorted(site.base_url + p for p in docs[rid].file_paths())
            have = sorted(f["url"] for f in rec["files"])
            if have != want:
                problems.append(f"{rid} files: got {have}, expected {want}")
    return problems
