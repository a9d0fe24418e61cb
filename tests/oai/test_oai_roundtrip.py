"""The round trip: the sample archive harvested into store A (with withdrawals), A served by
the real `harvester serve oai`, the provider harvested by the OAI-PMH source into store B:
the same active records and the same withdrawals."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from oai_source_support import harvest, records

from harvester.sample import serve_subprocess


def _oaiserve_support() -> Any:
    path = Path(__file__).resolve().parents[1] / "oaiserve" / "serve_support.py"
    spec = importlib.util.spec_from_file_location("oai_roundtrip_oaiserve", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_harvest_what_serve_oai_serves(tmp_path: Path) -> None:
    support = _oaiserve_support()
    store_a, store_b = tmp_path / "a", tmp_path / "b"
    env = {"HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
    with serve_subprocess(size=40) as (base_url, control):
        support.backfill(str(store_a), base_url, env)
        ids = sorted(support.stored_records(store_a))
        with support.provider(str(store_a), "HARVESTER_OAI_PAGE_SIZE=7") as served:
            run = harvest(served.url, str(store_b), "-s", "HARVESTER_OAI_WINDOWS=3",
                          name="mirror")
            assert run.code == 0, run.stderr[-3000:]
        for rid in ids[5:8]:
            control.withdraw(rid, status=410)
        support.backfill(str(store_a), base_url, env)
    a = support.stored_records(store_a)
    assert sum(r["status"] == "withdrawn" for r in a.values()) == 3
    with support.provider(str(store_a), "HARVESTER_OAI_PAGE_SIZE=7") as served:
        run = harvest(served.url, str(store_b), name="mirror")  # incremental
        assert run.code == 0, run.stderr[-3000:]
    b = records(store_b, "mirror")
    by_wilson_id = {rid.rsplit(":", 1)[1]: r for rid, r in b.items()}
    assert sorted(by_wilson_id) == sorted(a)
    active_a = {rid: r["title"] for rid, r in a.items() if r["status"] == "active"}
    active_b = {rid: r["title"] for rid, r in by_wilson_id.items() if r["status"] == "active"}
    assert active_b == active_a
    withdrawn_b = sorted(rid for rid, r in by_wilson_id.items() if r["status"] == "withdrawn")
    assert withdrawn_b == sorted(ids[5:8])
    some = next(iter(active_a))
    assert by_wilson_id[some]["url"] == a[some]["url"]  # the dc:identifier page link
    assert by_wilson_id[some]["authors"] == a[some]["authors"]
