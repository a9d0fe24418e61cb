"""`harvester status` and `harvester verify` on a harvested store, and on a damaged one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawl_support import harvest

from harvester.sample import serve_subprocess


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harvester.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_status_and_verify_report_what_the_store_holds(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=12) as (base_url, _control):
        assert harvest(str(store), base_url).code == 0
    status = cli("status", "--store", str(store))
    assert status.returncode == 0
    assert "site wilson: 12 records" in status.stdout
    assert "backfill" in status.stdout and "finished" in status.stdout
    ok = cli("verify", "--store", str(store))
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.strip().endswith(": OK")

    records = sorted((store / "records" / "wilson").glob("*.json"))
    tampered = json.loads(records[0].read_text())
    tampered["title"] = "Something else"
    records[0].write_text(json.dumps(tampered))
    with_file = next(json.loads(p.read_text()) for p in records[1:]
                     if json.loads(p.read_text())["files"])
    (store / with_file["files"][0]["key"]).write_bytes(b"%PDF-1.4 damaged")
    bad = cli("verify", "--store", str(store))
    assert bad.returncode == 1
    problems = [line for line in bad.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 2
    assert "content_sha256" in problems[0] or "content_sha256" in problems[1]
    assert any(with_file["files"][0]["key"] in p for p in problems)
    empty = cli("status", "--store", str(tmp_path / "nothing"))
    assert empty.returncode == 0 and "empty" in empty.stdout
