"""`harvester serve oai` on the command line: bad settings are one line and exit 2; the store
defaults to $HARVESTER_STORE; --rebuild-index builds the index and exits."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from serve_store import put_run, record
from serve_support import HARVESTER

from harvester.oaiserve.index import load_latest_manifest
from pipelines.storage import open_store


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HARVESTER, "serve", "oai", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_bad_settings_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for setting in ("HARVESTER_OAI_PAGE_SIZE=abc", "HARVESTER_OAI_NAMESPACE=nodots",
                    "HARVESTER_OAI_NOPE=1"):
        run = _serve("--store", str(tmp_path), "-s", setting)
        assert run.returncode == 2
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_rebuild_index_from_the_store_named_by_the_environment(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = open_store(str(root))
    put_run(store, "wilson", "20260101T000000Z-abcdef12",
            [record("wilson", "a", "2026-01-01T00:00:00Z")])
    run = _serve("--rebuild-index", env={"HARVESTER_STORE": str(root)})
    assert run.returncode == 0, run.stderr
    manifest = load_latest_manifest(store)
    assert manifest is not None and manifest.total() == 1
