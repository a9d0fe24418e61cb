"""The progress line: shown on a terminal (or when asked), quiet in logs."""

from __future__ import annotations

import re
from pathlib import Path

from crawl_support import harvest

from harvester.sample import serve_subprocess


def test_progress_line_when_asked_and_quiet_in_logs(tmp_path: Path) -> None:
    with serve_subprocess(size=12) as (base_url, _control):
        shown = harvest(str(tmp_path / "a"), base_url, "-s", "HARVESTER_PROGRESS=on")
        quiet = harvest(str(tmp_path / "b"), base_url)  # stderr is a pipe here: not a terminal
    assert shown.code == 0 and quiet.code == 0
    final = [line for line in re.split(r"[\r\n]", shown.stderr) if "docs" in line and "ETA" in line]
    assert final, shown.stderr[-2000:]
    assert "[wilson backfill] 12/12 docs (100.0%)" in final[-1]
    assert "failed 0" in final[-1] and "quarantined 0" in final[-1]
    assert "ETA" not in quiet.stderr
