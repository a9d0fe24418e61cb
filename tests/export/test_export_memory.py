"""Exports stream: peak RSS of a 20,000-record export stays near a 2,000-record one.

Each export runs in its own process (RSS is per process), all six at once to keep
the test short; the stores are written directly as small JSON files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from export_support import bulk_local_store

SCRIPT = Path(__file__).with_name("export_memory.py")
ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("jsonl", "dc", "bagit")
LIMIT_KB = 50 * 1024  # growth allowed beyond the 2,000-record export's


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("memory")
    stores = {n: bulk_local_store(tmp / f"store-{n}", n) for n in (2000, 20000)}
    procs = {
        (fmt, n): subprocess.Popen(
            [sys.executable, str(SCRIPT), str(store), fmt, str(tmp / f"out-{fmt}-{n}")],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for fmt in FORMATS for n, store in stores.items()
    }
    out = {}
    for key, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr[-2000:]
        out[key] = json.loads(stdout)
    return tmp, out


@pytest.mark.parametrize("fmt", FORMATS)
def test_memory_stays_flat_for_20000_records(results, fmt):
    _, out = results
    small, large = out[(fmt, 2000)], out[(fmt, 20000)]
    assert small["count"] == 2000 and large["count"] == 20000
    assert large["growth_kb"] - small["growth_kb"] < LIMIT_KB, (small, large)
    assert large["growth_kb"] < 2 * LIMIT_KB, large


def test_the_large_exports_are_complete(results):
    tmp, _ = results
    lines = (tmp / "out-jsonl-20000").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["record_id"] for line in lines]
    assert len(ids) == 20000 and ids == sorted(ids)
    assert len(list((tmp / "out-dc-20000").iterdir())) == 20000
    bag = tmp / "out-bagit-20000"
    assert "Record-Count: 20000" in (bag / "bag-info.txt").read_text(encoding="utf-8")
    for algorithm in ("sha256", "sha512"):
        manifest = (bag / f"manifest-{algorithm}.txt").read_text(encoding="utf-8")
        assert len(manifest.splitlines()) == 20000
