"""Withdrawn documents through the real CLI: a 60-document sample archive takes documents
down with 410 and 404, brings one back, and breaks its whole site for a while."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from crawl_support import harvest, latest_report, local_records, local_reports
from warcio.archiveiterator import ArchiveIterator

from harvester.sample import SampleControl, serve_subprocess

EXIT_LISTING_UNREADABLE = 6
EXIT_WITHDRAW_GUARD = 7


@pytest.fixture
def sample60() -> Iterator[tuple[str, SampleControl]]:
    with serve_subprocess(size=60) as served:
        yield served


def _backfill(store: Path, base_url: str) -> Any:
    return harvest(str(store), base_url, "--mode", "backfill")


def _feed(store: Path, report: dict[str, Any]) -> list[dict[str, Any]]:
    path = store / "runs" / "wilson" / f"{report['run_id']}.changes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _campaign(store: Path) -> dict[str, Any]:
    return json.loads((store / "state" / "wilson" / "backfill.json").read_text())


def _status(store: Path) -> str:
    run = subprocess.run([sys.executable, "-m", "harvester.cli", "status", "--store", str(store)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_withdrawn_documents_end_withdrawn_with_their_content_and_feed_lines(
        tmp_path: Path, sample60) -> None:
    base_url, control = sample60
    store = tmp_path / "store"
    first = _backfill(store, base_url)
    assert first.code == 0, first.stderr[-2000:]
    before = local_records(store)
    assert len(before) == 60 and {r["status"] for r in before.values()} == {"active"}
    ids = sorted(before)
    gone, missing = ids[5:8], ids[20:23]
    for rid in gone:
        control.withdraw(rid, status=410)
    for rid in missing:
        control.withdraw(rid, status=404)

    # second campaign: the 410s are withdrawn at once, the 404s only marked missing
    second = _backfill(store, base_url)
    assert second.code == 0, second.stderr[-2000:]
    after = local_records(store)
    assert len(after) == 60  # nothing lost
    for rid in gone:
        record = after[rid]
        assert record["status"] == "withdrawn"
        assert record["withdrawn_at"] and record["withdrawn_at"].endswith("Z")
        kept = {k: v for k, v in record.items() if k not in ("status", "withdrawn_at")}
        assert kept == {k: v for k, v in before[rid].items()
                        if k not in ("status", "withdrawn_at")}  # content and hash kept
        version = (store / "versions" / "wilson" / rid / f"{before[rid]['content_sha256']}.json")
        assert json.loads(version.read_text())["status"] == "active"
    for rid in missing:
        assert after[rid]["status"] == "active" and after[rid]["withdrawn_at"] is None
        assert (store / "state" / "wilson" / "missing" / f"{rid}.json").exists()
    assert "3 withdrawn, 3 missing" in _status(store)
    assert all(after[rid]["status"] == "active" for rid in ids if rid not in gone)
    report = latest_report(local_reports(store))
    assert report["counts"]["withdrawn"] == 3 and report["requests"]["total"] > 0
    lines = [line for line in _feed(store, report) if line["change"] == "withdrawn"]
    assert sorted(line["record_id"] for line in lines) == gone
    assert all(line["content_sha256"] == before[line["record_id"]]["content_sha256"]
               for line in lines)
    assert _campaign(store)["status"] == "complete"
    # the answers that withdrew them are kept as evidence in the raw captures
    statuses = {}
    for warc in sorted((store / "raw" / "wilson").rglob("*.warc.gz")):  # oldest run first
        with warc.open("rb") as stream:
            for rec in ArchiveIterator(stream):
                if rec.rec_type in ("response", "revisit") and rec.http_headers is not None:
                    statuses[rec.rec_headers.get_header("WARC-Target-URI")] = \
                        rec.http_headers.get_statuscode()
    gone_paths = {urlsplit(before[rid]["url"]).path for rid in gone}
    assert {urlsplit(u).path for u, code in statuses.items() if code == "410"} == gone_paths

    # third campaign: the 404s answer 404 again and are withdrawn; the 410s are not re-checked;
    # one of the 404s answers again (listed, its page back): its mark goes, it stays active
    back_404 = missing.pop()
    control.restore(back_404)
    third = _backfill(store, base_url)
    assert third.code == 0, third.stderr[-2000:]
    now = local_records(store)
    assert sorted(rid for rid, r in now.items() if r["status"] == "withdrawn") == sorted(
        gone + missing)
    assert now[back_404] == {**after[back_404], "harvested_at": now[back_404]["harvested_at"]}
    assert now[gone[0]]["withdrawn_at"] == after[gone[0]]["withdrawn_at"]  # left alone
    report = latest_report(local_reports(store))
    assert sorted(line["record_id"] for line in _feed(store, report)
                  if line["change"] == "withdrawn") == missing
    assert not list((store / "state" / "wilson" / "missing").glob("*.json"))
    assert "5 withdrawn" in _status(store)

    # one comes back: restored, a new version, active again; its withdrawn version kept
    back = gone[0]
    control.restore(back)
    fourth = _backfill(store, base_url)
    assert fourth.code == 0, fourth.stderr[-2000:]
    restored = local_records(store)[back]
    assert restored["status"] == "active" and restored["withdrawn_at"] is None
    assert restored["content_sha256"] == before[back]["content_sha256"]
    kept = list((store / "versions" / "wilson" / back).glob("*.withdrawn-*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["status"] == "withdrawn"
    report = latest_report(local_reports(store))
    assert [(x["record_id"], x["change"]) for x in _feed(store, report)] == [(back, "restored")]
    assert report["counts"]["restored"] == 1
    verify = subprocess.run([sys.executable, "-m", "harvester.cli", "verify", "--store",
                             str(store)], capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout[-2000:]


def test_a_site_answering_404_everywhere_withdraws_nothing_and_exits_7(
        tmp_path: Path, sample60) -> None:
    base_url, control = sample60
    store = tmp_path / "store"
    assert _backfill(store, base_url).code == 0
    before = local_records(store)
    control.break_site(404, paths="document")
    broken = _backfill(store, base_url)
    assert broken.code == EXIT_WITHDRAW_GUARD, broken.stderr[-2000:]
    reason = broken.stderr.strip().splitlines()[-1]
    assert "60 of 60 stored records answered 404/410" in reason
    assert "nothing was withdrawn" in reason
    assert local_records(store) == before  # nothing withdrawn
    assert not (store / "state" / "wilson" / "missing").exists()  # nothing marked missing
    assert _campaign(store)["status"] == "running"  # checked again by the next backfill
    report = latest_report(local_reports(store))
    assert report["exit_code"] == EXIT_WITHDRAW_GUARD and report["counts"]["withdrawn"] == 0

    # the site mended: the next backfill finishes the campaign with nothing withdrawn
    control.mend_site()
    mended = _backfill(store, base_url)
    assert mended.code == 0, mended.stderr[-2000:]
    assert {r["status"] for r in local_records(store).values()} == {"active"}
    assert _campaign(store)["status"] == "complete"


def test_a_site_answering_404_on_every_page_withdraws_nothing_and_exits_non_zero(
        tmp_path: Path, sample60) -> None:
    base_url, control = sample60
    store = tmp_path / "store"
    assert _backfill(store, base_url).code == 0
    before = local_records(store)
    control.break_site(404, paths="all")
    broken = _backfill(store, base_url)
    # the walk stops at the listing (exit 6): no check is made, nothing withdrawn
    assert broken.code == EXIT_LISTING_UNREADABLE, broken.stderr[-2000:]
    assert local_records(store) == before
    assert not (store / "state" / "wilson" / "missing").exists()
    assert _campaign(store)["status"] == "running"


def test_a_check_that_fails_otherwise_decides_nothing(tmp_path: Path, sample60) -> None:
    base_url, control = sample60
    store = tmp_path / "store"
    assert _backfill(store, base_url).code == 0
    before = local_records(store)
    gone, failing = sorted(before)[:2]
    control.withdraw(gone, status=410)
    control.withdraw(failing, status=410)
    path = "/" + before[failing]["url"].split("/", 3)[3]
    control.set_faults({"500": {"urls": [path], "always": True}})  # 500 after every retry
    second = _backfill(store, base_url)
    assert second.code == 0, second.stderr[-2000:]
    after = local_records(store)
    assert after[gone]["status"] == "withdrawn"
    assert after[failing] == before[failing]  # neither withdrawn nor marked missing
    assert not (store / "state" / "wilson" / "missing").exists()
    served = control.stats()["by_path"]
    assert served[path] >= 2  # it was asked, and retried


def test_records_stored_before_the_lifecycle_gain_their_status_without_refetching_files(
        tmp_path: Path, sample60) -> None:
    base_url, control = sample60
    store = tmp_path / "store"
    assert _backfill(store, base_url).code == 0
    for path in (store / "records" / "wilson").glob("*.json"):  # as an older harvester wrote
        record = json.loads(path.read_text())
        del record["status"], record["withdrawn_at"]
        path.write_text(json.dumps(record, indent=1))
    verify = subprocess.run([sys.executable, "-m", "harvester.cli", "verify", "--store",
                             str(store), "--no-files"], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr  # an older store verifies
    control.reset_stats()
    again = _backfill(store, base_url)
    assert again.code == 0, again.stderr[-2000:]
    records = local_records(store)
    assert len(records) == 60
    assert {(r["status"], r["withdrawn_at"]) for r in records.values()} == {("active", None)}
    served = control.stats()["by_kind"]
    assert served.get("download", 0) == 0 and served.get("preview", 0) == 0  # files kept
    assert not list((store / "versions").rglob("*.json"))  # no content changed
    report = latest_report(local_reports(store))
    assert report["counts"]["repaired"] == 60 and report["changes"] == 0


def test_a_soft_404_or_a_redirect_away_withdraws_after_two_campaigns(tmp_path: Path,
                                                                    sample60) -> None:
    """Deleted documents whose page answers a "Page not found" page with HTTP 200, or
    redirects to the search page: not quarantined campaign after campaign, but taken as a
    404 (marked missing, withdrawn by the next campaign)."""
    base_url, control = sample60
    store = tmp_path / "store"
    assert _backfill(store, base_url).code == 0
    before = local_records(store)
    soft, moved = sorted(before)[10], sorted(before)[40]
    control.withdraw(soft, status=200)
    control.withdraw(moved, status=301)
    second = _backfill(store, base_url)
    assert second.code == 0, second.stderr[-2000:]
    assert latest_report(local_reports(store))["stats"]["withdraw/not_a_document"] == 2
    assert not list((store / "quarantine").rglob("*.json"))
    assert {local_records(store)[r]["status"] for r in (soft, moved)} == {"active"}
    assert (store / "state" / "wilson" / "missing" / f"{soft}.json").exists()
    third = _backfill(store, base_url)
    assert third.code == 0, third.stderr[-2000:]
    after = local_records(store)
    assert {after[r]["status"] for r in (soft, moved)} == {"withdrawn"}
    assert sum(r["status"] == "withdrawn" for r in after.values()) == 2
