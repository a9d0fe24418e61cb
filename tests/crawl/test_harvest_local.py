"""Harvests of the sample archive into a local store, through the real CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from crawl_support import (
    assert_matches_ground_truth,
    harvest,
    latest_report,
    local_records,
    local_reports,
    snapshot,
)


def _status(store: Path) -> str:
    run = subprocess.run([sys.executable, "-m", "harvester.cli", "status", "--store", str(store)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def _expected(control):
    archive = control.archive()
    return {r["record_id"]: r for r in archive.expected_records()}


@pytest.mark.parametrize("io_mode", ["inline", "threads"])
def test_backfill_stores_every_record_right_with_its_files(tmp_path: Path, sample,
                                                          io_mode: str) -> None:
    # inline: the default (local I/O on the reactor thread, group commit);
    # threads: HARVESTER_STORE_INLINE=False (store threads, an fsync per object)
    base_url, control = sample
    store = tmp_path / "store"
    run = harvest(str(store), base_url, "-s", f"HARVESTER_STORE_INLINE={io_mode == 'inline'}")
    assert run.code == 0, run.stderr[-2000:]
    records = local_records(store)
    assert_matches_ground_truth(records, _expected(control))
    files = 0
    for record in records.values():
        for entry in record["files"]:
            body = (store / entry["key"]).read_bytes()
            assert body.startswith(b"%PDF-")
            assert hashlib.sha256(body).hexdigest() == entry["sha256"]
            assert len(body) == entry["size"]
            assert entry["content_type"] == "application/pdf"
            assert entry["key"].startswith(f"files/wilson/{record['record_id']}/")
            files += 1
    assert files > 0
    report = latest_report(local_reports(store))
    assert report["status"] == "finished" and report["mode"] == "backfill"
    assert report["counts"]["new"] == len(records)
    assert report["coverage"]["title"] == 1.0
    stats = report["stats"]  # the harvester's own stats of the run, by key
    assert list(stats) == sorted(stats)
    assert stats["records/new"] == len(records) and stats["files/stored"] == files
    assert stats["requests/document"] == report["requests"]["document"]
    assert not [k for k in stats if k.startswith(("downloader/", "scheduler/", "start_time"))]
    feed = (store / "runs" / "wilson" / f"{report['run_id']}.changes.jsonl").read_text()
    lines = [json.loads(line) for line in feed.splitlines()]
    assert sorted(line["record_id"] for line in lines) == sorted(records)
    assert {line["change"] for line in lines} == {"new"}
    # no challenge page, error page or temp file ever became a record or an object
    assert not [p for p in (store / ".tmp").rglob("*") if p.is_file()]


def test_rerun_writes_nothing_and_costs_one_listing_request(tmp_path: Path, sample) -> None:
    base_url, control = sample
    store = tmp_path / "store"
    assert harvest(str(store), base_url).code == 0
    before = {k: v for k, v in snapshot(store).items() if not k.startswith(("runs/", "raw/"))}
    control.reset_stats()
    run = harvest(str(store), base_url)
    assert run.code == 0, run.stderr[-2000:]
    after = {k: v for k, v in snapshot(store).items() if not k.startswith(("runs/", "raw/"))}
    assert after == before  # nothing written outside the run's own report
    served = control.stats()["by_kind"]
    assert served.get("listing", 0) == 1
    assert sum(served.values()) <= 2  # the listing page and robots.txt
    report = latest_report(local_reports(store))
    assert report["mode"] == "incremental" and report["counts"]["new"] == 0


def test_new_uploads_cost_about_one_request_each(tmp_path: Path, sample) -> None:
    base_url, control = sample
    store = tmp_path / "store"
    assert harvest(str(store), base_url).code == 0
    old = local_records(store)
    new_ids = control.publish(7)
    control.reset_stats()
    run = harvest(str(store), base_url)
    assert run.code == 0, run.stderr[-2000:]
    served = control.stats()["by_kind"]
    assert served.get("document", 0) == 7
    assert served.get("listing", 0) == 1
    records = local_records(store)
    assert sorted(set(records) - set(old)) == sorted(new_ids)
    assert_matches_ground_truth(records, _expected(control))
    for rid, record in old.items():  # no old record rewritten
        assert records[rid]["harvested_at"] == record["harvested_at"]
    # more than a page (100 a page) of new uploads: the first page is all new, so the second
    # is read too, and every new upload is found by the one run
    more = control.publish(105)
    control.reset_stats()
    assert harvest(str(store), base_url).code == 0
    served = control.stats()["by_kind"]
    assert served.get("document", 0) == 105
    assert served.get("listing", 0) == 2
    assert set(more) <= set(local_records(store))


def test_edited_document_becomes_new_version_and_feed_line(tmp_path: Path, sample) -> None:
    base_url, control = sample
    store = tmp_path / "store"
    assert harvest(str(store), base_url).code == 0
    target = sorted(local_records(store))[3]
    before = local_records(store)[target]
    control.edit(target)
    run = harvest(str(store), base_url, "--mode", "backfill")
    assert run.code == 0, run.stderr[-2000:]
    after = local_records(store)[target]
    assert after["content_sha256"] != before["content_sha256"]
    assert after == {**after, **{k: v for k, v in control.expected(target).items()
                                 if k != "files"}}
    kept = store / "versions" / "wilson" / target / f"{before['content_sha256']}.json"
    assert json.loads(kept.read_text()) == before
    report = latest_report(local_reports(store))
    assert report["counts"]["changed"] == 1
    assert report["counts"]["unchanged"] == len(local_records(store)) - 1
    feed = (store / "runs" / "wilson" / f"{report['run_id']}.changes.jsonl").read_text()
    lines = [json.loads(line) for line in feed.splitlines()]
    assert [(x["record_id"], x["change"], x["content_sha256"]) for x in lines] == [
        (target, "changed", after["content_sha256"])]


def test_interrupted_backfill_resumes_without_refetching(tmp_path: Path, sample) -> None:
    base_url, control = sample
    store = tmp_path / "store"
    first = harvest(str(store), base_url, "--mode", "backfill", "--limit", "15")
    assert first.code == 0, first.stderr[-2000:]
    assert len(local_records(store)) == 15
    second = harvest(str(store), base_url)  # auto: the unfinished campaign resumes
    assert second.code == 0, second.stderr[-2000:]
    assert_matches_ground_truth(local_records(store), _expected(control))
    by_path = control.stats()["by_path"]
    docs = {p: n for p, n in by_path.items() if p.startswith("/document/") and "/download" not in p}
    assert len(docs) == 36
    assert max(docs.values()) == 1  # no document fetched twice
    report = latest_report(local_reports(store))
    assert report["mode"] == "backfill" and report["counts"]["new"] == 21
    campaign = json.loads((store / "state" / "wilson" / "backfill.json").read_text())
    assert campaign["status"] == "complete"


def test_records_stored_without_seen_markers_are_checked_not_duplicated(tmp_path: Path,
                                                                        sample) -> None:
    """A URL without a seen marker is taken for new without a store read; when its record
    exists after all (a run killed between record and marker, or a record first stored
    under another URL), the create-only write finds it: unchanged records are not rewritten
    and get no feed line, an edited one becomes a version and a "changed" line."""
    import shutil

    base_url, control = sample
    store = tmp_path / "store"
    assert harvest(str(store), base_url).code == 0
    before = local_records(store)
    target = sorted(before)[2]
    control.edit(target)
    shutil.rmtree(store / "state" / "wilson" / "seen")
    records_before = {k: v for k, v in snapshot(store).items() if k.startswith("records/")}
    run = harvest(str(store), base_url, "--mode", "backfill")
    assert run.code == 0, run.stderr[-2000:]
    after = local_records(store)
    assert sorted(after) == sorted(before)
    assert after[target]["content_sha256"] != before[target]["content_sha256"]
    kept = store / "versions" / "wilson" / target / f"{before[target]['content_sha256']}.json"
    assert json.loads(kept.read_text()) == before[target]
    records_after = {k: v for k, v in snapshot(store).items() if k.startswith("records/")}
    changed = [k for k in records_after if records_after[k] != records_before.get(k)]
    assert changed == [f"records/wilson/{target}.json"]
    report = latest_report(local_reports(store))
    assert report["counts"]["new"] == 0 and report["counts"]["changed"] == 1
    assert report["counts"]["unchanged"] == len(before) - 1
    feed = (store / "runs" / "wilson" / f"{report['run_id']}.changes.jsonl").read_text()
    lines = [json.loads(line) for line in feed.splitlines()]
    assert [(x["record_id"], x["change"]) for x in lines] == [(target, "changed")]
    assert len(list((store / "state" / "wilson" / "seen").glob("*.json"))) == len(before)


def test_an_incremental_run_stopped_early_is_resumed_by_the_next(tmp_path: Path, sample) -> None:
    """25 new uploads (listing pages 0-2 at 10 results a page) and an incremental run that
    stops after 12 of them (--limit; a kill or a persistent challenge stop it the same way):
    the next run does not end at page 0, whose documents that run stored, but walks on to the
    documents stored before the walk began, and so stores the 13 older new uploads too."""
    base_url, control = sample
    store = tmp_path / "store"
    ten = ("-s", "HARVESTER_LISTING_PAGE_SIZE=10")
    assert harvest(str(store), base_url, *ten).code == 0
    old = set(local_records(store))
    new_ids = control.publish(25)
    first = harvest(str(store), base_url, "--mode", "incremental", "--limit", "12", *ten)
    assert first.code == 0, first.stderr[-2000:]
    assert len(set(local_records(store)) - old) == 12
    walk = json.loads((store / "state" / "wilson" / "incremental.json").read_text())
    assert walk["status"] == "running"
    assert f"incremental walk {walk['id']}: open since" in _status(store)

    control.reset_stats()
    second = harvest(str(store), base_url, "--mode", "incremental", *ten)
    assert second.code == 0, second.stderr[-2000:]
    records = local_records(store)
    assert sorted(set(records) - old) == sorted(new_ids)  # none of the 25 is left behind
    assert_matches_ground_truth(records, _expected(control))
    served = control.stats()["by_kind"]
    assert served.get("document", 0) == 13 and served.get("listing", 0) == 3
    resumed = json.loads((store / "state" / "wilson" / "incremental.json").read_text())
    assert resumed["id"] == walk["id"] and resumed["status"] == "complete"
    assert latest_report(local_reports(store))["stats"]["listing/walk_resumed"] == 1
    assert "incremental walk" not in _status(store)

    control.reset_stats()  # the walk is complete: the next one stops at the first page
    assert harvest(str(store), base_url, "--mode", "incremental", *ten).code == 0
    assert control.stats()["by_kind"].get("listing", 0) == 1
    assert control.stats()["by_kind"].get("document", 0) == 0
