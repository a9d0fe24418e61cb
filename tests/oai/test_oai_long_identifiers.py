"""Identifiers too long for a plain key part (over 200 bytes escaped: ~200 ASCII characters,
~22 CJK ones) are stored, under a hashed key part (harvester.keys), and everything that
lists the store finds them: verify, export in record_id order, an idle run that rewrites
nothing, the OAI-PMH index served downstream, the reconciliation of a repository that does
not report deletions. Before, each such record was quarantined and never stored (found by
a campaign against an independent Node.js repository)."""

from __future__ import annotations

import json
from pathlib import Path

from oai_lookalike import LookalikeServer, Repository
from oai_source_support import cli, harvest, records, reports, snapshot

LONG_PREFIXES = ["x" * 300, "\u4e2d" * 30, "\u0416" * 40, "a" * 190 + "/" + "b" * 40]


def test_long_identifiers_are_stored_found_and_reconciled(tmp_path: Path) -> None:
    repo = Repository(page_size=5, deleted_record="no")
    short = repo.add(4)
    long = [rid for prefix in LONG_PREFIXES for rid in repo.add(2, prefix=prefix)]
    every = short + long
    store = tmp_path / "store"
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(store), "--mode", "backfill")
        assert run.code == 0, run.stderr[-3000:]
        got = records(store)
        assert sorted(got) == sorted(every)  # every id exact, none quarantined
        assert reports(store)[-1]["counts"]["quarantined"] == 0
        assert all(len(p.name.encode()) <= 205 for p in (store / "records" / "look").iterdir())

        verified = cli("verify", "--store", str(store))
        assert verified.code == 0, verified.stdout[-2000:]
        assert f"verified {len(every)} records" in verified.stdout
        out = tmp_path / "all.jsonl"
        exported = cli("export", "--store", str(store), "--site", "look", "--format", "jsonl",
                       "--out", str(out))
        assert exported.code == 0, exported.stderr[-2000:]
        lines = [json.loads(line)["record_id"] for line in out.read_text().splitlines()]
        assert lines == sorted(every)  # byte order of record_id, long ids in place

        before = snapshot(store, "records")
        idle = harvest(server.url, str(store), "--mode", "incremental")
        assert idle.code == 0, idle.stderr[-3000:]
        assert snapshot(store, "records") == before  # nothing rewritten

        gone = long[0]
        repo.delete(gone)  # deletedRecord "no": the listing just stops showing it
        repo.tick(3600)
        repo.requests.clear()
        again = harvest(server.url, str(store), "--mode", "backfill")
        assert again.code == 0, again.stderr[-3000:]
        assert [r["identifier"] for r in repo.requests if r["verb"] == "GetRecord"] == [gone]
    got = records(store)
    assert got[gone]["status"] == "withdrawn"
    assert sum(r["status"] == "active" for r in got.values()) == len(every) - 1

    # the OAI-PMH index served downstream names every record (segments: one JSON line each)
    segments = "".join(p.read_text("utf-8")
                       for p in (store / "index" / "oai" / "segments").glob("*.jsonl"))
    for rid in every:
        assert json.dumps(rid, ensure_ascii=False) in segments, rid
