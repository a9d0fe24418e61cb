"""Repositories that do not report every deletion (deletedRecord no or transient): a
complete backfill asks GetRecord for the stored records it did not meet; a record the
repository says it no longer has (idDoesNotExist, or a deleted header) is withdrawn by that
campaign (the repository's own word, taken as 410 Gone, under the engine's safety valve).
A persistent repository costs nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from oai_lookalike import LookalikeServer, Repository
from oai_source_support import harvest, records


@pytest.mark.parametrize("deleted_record", ["no", "transient"])
def test_deletions_that_the_listing_no_longer_shows_reach_the_store(
        tmp_path: Path, deleted_record: str) -> None:
    repo = Repository(page_size=10, deleted_record=deleted_record)
    ids = repo.add(30)
    with LookalikeServer(repo) as server:
        assert harvest(server.url, str(tmp_path), "--mode", "backfill").code == 0
        for rid in ids[4:6]:
            repo.delete(rid)
        repo.tick(2 * 3600)  # a transient repository forgets its deletions after an hour
        repo.requests.clear()
        first = harvest(server.url, str(tmp_path), "--mode", "backfill")
        assert first.code == 0, first.stderr[-3000:]
        checked = [r for r in repo.requests if r["verb"] == "GetRecord"]
        assert sorted(r["identifier"] for r in checked) == sorted(ids[4:6])
    assert not list((tmp_path / "state" / "look" / "missing").rglob("*.json"))
    got = records(tmp_path)
    assert sorted(r for r, rec in got.items() if rec["status"] == "withdrawn") == \
        sorted(ids[4:6])
    assert got[ids[4]]["title"] == "Record 5"  # content kept
    assert sum(rec["status"] == "active" for rec in got.values()) == 28
    feed = [json.loads(line) for path in (tmp_path / "runs" / "look").glob("*.changes.jsonl")
            for line in path.read_text().splitlines()]
    assert sorted(line["record_id"] for line in feed if line["change"] == "withdrawn") == \
        sorted(ids[4:6])
    campaign = json.loads((tmp_path / "state" / "look" / "backfill.json").read_text())
    assert campaign["status"] == "complete"


def test_a_persistent_repository_is_not_reconciled(tmp_path: Path, repo: Repository,
                                                    server: LookalikeServer) -> None:
    repo.add(15)
    assert harvest(server.url, str(tmp_path), "--mode", "backfill").code == 0
    assert harvest(server.url, str(tmp_path), "--mode", "backfill").code == 0
    assert not [r for r in repo.requests if r["verb"] == "GetRecord"]
