"""A repository that sends its OAI-PMH errors with HTTP statuses other than 200, as
Europeana's server does (noRecordsMatch and idDoesNotExist as 404; badArgument,
badResumptionToken and cannotDisseminateFormat as 400; other errors as 500): the body
decides, not the status. An empty date window is skipped and the windows after it walked,
an expired token restarts its window, an idle incremental run is a success, a deletion found
by GetRecord is withdrawn, `harvester check` reads the errors; a 404 whose body is no
OAI-PMH answer still stops the walk with the status in its reason (exit 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from oai_lookalike import LookalikeServer, Repository
from oai_source_support import cli, harvest, records, reports

EUROPEANA = {"noRecordsMatch": 404, "idDoesNotExist": 404, "badArgument": 400,
             "badResumptionToken": 400, "cannotDisseminateFormat": 400, "badVerb": 400}


def _repo(**kwargs: object) -> Repository:
    repo = Repository(page_size=5, **kwargs)  # type: ignore[arg-type]
    repo.error_statuses = dict(EUROPEANA)
    return repo


def test_empty_windows_answered_404_do_not_end_the_backfill(tmp_path: Path) -> None:
    repo = _repo()
    early = repo.add(12)
    repo.tick(30 * 86400)  # a month with nothing in it: the middle windows are empty
    late = repo.add(13)
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=8")
        statuses = repo.window_requests
    assert run.code == 0, run.stderr[-3000:]
    got = records(tmp_path)
    assert sorted(got) == sorted(early + late)  # the records after the empty windows too
    assert all(rec["status"] == "active" for rec in got.values())
    assert len(statuses) >= 4  # the walk went through windows answered noRecordsMatch
    report = reports(tmp_path)[-1]
    assert report["status"] == "finished"
    campaign = json.loads((tmp_path / "state" / "look" / "backfill.json").read_text())
    assert campaign["status"] == "complete"


def test_an_expired_token_answered_400_restarts_its_window(tmp_path: Path) -> None:
    repo = _repo()
    ids = repo.add(30)
    repo.expire_after = 2  # the third list request finds every token refused, with a 400
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1")
        refused = [r for r in repo.list_requests if r.get("resumptionToken")]
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert len(refused) >= 2  # a token was refused and the window asked again
    assert reports(tmp_path)[-1]["status"] == "finished"


def test_an_idle_incremental_run_answered_404_is_a_success(tmp_path: Path) -> None:
    repo = _repo()
    ids = repo.add(10)
    with LookalikeServer(repo) as server:
        assert harvest(server.url, str(tmp_path)).code == 0
        repo.tick(3600)
        repo.requests.clear()
        idle = harvest(server.url, str(tmp_path))
        asked = [r["verb"] for r in repo.requests]
        repo.add(3)
        repo.tick(60)
        more = harvest(server.url, str(tmp_path))
    assert idle.code == 0, idle.stderr[-3000:]
    assert asked == ["ListRecords"]  # one request, noRecordsMatch with its 404
    assert reports(tmp_path)[-2]["status"] == "finished"
    assert more.code == 0, more.stderr[-3000:]
    assert len(records(tmp_path)) == len(ids) + 3


def test_a_deletion_answered_idDoesNotExist_with_404_is_withdrawn(tmp_path: Path) -> None:
    repo = _repo(deleted_record="no")
    ids = repo.add(12)
    with LookalikeServer(repo) as server:
        assert harvest(server.url, str(tmp_path), "--mode", "backfill").code == 0
        repo.items.pop(ids[2])  # gone without a trace: GetRecord says idDoesNotExist (404)
        repo.tick(60)
        again = harvest(server.url, str(tmp_path), "--mode", "backfill")
    assert again.code == 0, again.stderr[-3000:]
    got = records(tmp_path)
    assert [rid for rid, rec in got.items() if rec["status"] == "withdrawn"] == [ids[2]]
    assert sum(rec["status"] == "active" for rec in got.values()) == 11


def test_a_getrecord_answered_410_without_an_oai_body_is_gone(tmp_path: Path) -> None:
    repo = _repo(deleted_record="no")
    ids = repo.add(12)
    with LookalikeServer(repo) as server:
        assert harvest(server.url, str(tmp_path), "--mode", "backfill").code == 0
        repo.items.pop(ids[5])
        repo.fail_next(1, 410, verb="GetRecord", body=b"<html><body>Gone</body></html>")
        repo.tick(60)
        again = harvest(server.url, str(tmp_path), "--mode", "backfill")
    assert again.code == 0, again.stderr[-3000:]
    got = records(tmp_path)
    assert [rid for rid, rec in got.items() if rec["status"] == "withdrawn"] == [ids[5]]


def test_check_reads_oai_errors_sent_with_404(tmp_path: Path) -> None:
    repo = _repo()
    with LookalikeServer(repo) as server:  # no records: ListRecords answers 404
        run = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0")
    assert run.code == 0, run.stdout + run.stderr[-2000:]
    assert "noRecordsMatch" in run.stdout


@pytest.mark.parametrize(("status", "body"), [(404, b"busy"), (400, b"busy"), (404, b"")])
def test_a_status_whose_body_is_not_oai_pmh_stops_the_walk(tmp_path: Path, status: int,
                                                           body: bytes) -> None:
    repo = _repo()
    ids = repo.add(20)
    with LookalikeServer(repo) as server:
        repo.fail_next(1, status, body=body)  # the first list request: not an OAI-PMH answer
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1")
    assert run.code == 6, run.stderr[-3000:]
    assert f"HTTP {status}" in run.stderr
    assert len(records(tmp_path)) < len(ids)
    report = reports(tmp_path)[-1]
    assert report["status"] != "finished"
    campaign = json.loads((tmp_path / "state" / "look" / "backfill.json").read_text())
    assert campaign["status"] != "complete"  # the next run goes on from here
