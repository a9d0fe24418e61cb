"""The harvester's OAI-PMH source (`harvester harvest oai`, the real CLI) against the sample
archive's /oai endpoint: a complete harvest (every document once, fields right, PDFs
downloaded), each switch survived (new, edited and deleted records picked up by an
incremental run, expiring tokens, 503 with an HTTP-date Retry-After, forbidden
characters, day granularity) and `harvester demo --oai`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from harvester.sample import SampleArchive, SampleServer
from harvester.sample.oai_catalog import ID_PREFIX

NAME = "sample-oai"
ROOT = Path(__file__).resolve().parents[2]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "HARVESTER_BACKOFF_BASE=0.01", "-s", "LOG_LEVEL=INFO",
        "-s", "HARVESTER_PROGRESS=off", "-s", "HARVESTER_EXTRACT_WORKERS=0"]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def cli(*args: str, cwd: Path | None = None) -> Run:
    env = dict(os.environ)
    env.setdefault("HARVESTER_SPOOL_DIR", "/tmp/sample-oai-tests-spool")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "harvester.cli", *args], capture_output=True,
                          text=True, timeout=180, env=env, cwd=cwd)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def harvest(server: SampleServer, store: Path, *extra: str) -> Run:
    run = cli("harvest", "oai", "--endpoint", server.base_url + "/oai", "--name", NAME,
              "--store", str(store), *FAST, *extra)
    assert run.code == 0, run.stderr[-3000:]
    return run


def records(store: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in (store / "records" / NAME).glob("*.json"):
        record = json.loads(path.read_text("utf-8"))
        out[record["record_id"]] = record
    return out


def last_report(store: Path) -> dict[str, Any]:
    found = [json.loads(p.read_text("utf-8")) for p in (store / "runs" / NAME).glob("*.json")]
    return max(found, key=lambda r: r["run_id"])


def changes(store: Path) -> list[tuple[str, str]]:
    path = store / "runs" / NAME / f"{last_report(store)['run_id']}.changes.jsonl"
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    return sorted((json.loads(x)["change"], json.loads(x)["record_id"]) for x in lines if x)


def oai_id(record_id: str) -> str:
    return f"{ID_PREFIX}{record_id}"


def oai_requests(server: SampleServer) -> list[dict[str, str]]:
    """The arguments of every /oai request the server answered, in no particular order."""
    out = []
    for url, count in server.stats.snapshot()["by_path"].items():
        if urlsplit(url).path == "/oai":
            args = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            out += [args] * count
    return out


def pdf_count(server: SampleServer) -> int:
    kinds = server.stats.snapshot()["by_kind"]
    return int(kinds.get("download", 0) + kinds.get("preview", 0))


@pytest.fixture
def served() -> Iterator[SampleServer]:
    with SampleServer(SampleArchive(30), oai={"page_size": 6}) as srv:
        yield srv


def test_a_harvest_stores_every_document_once_with_its_fields_and_pdfs(
        tmp_path: Path, served: SampleServer) -> None:
    archive, base = served.archive, served.base_url
    harvest(served, tmp_path, "-s", "HARVESTER_OAI_WINDOWS=2")
    got = records(tmp_path)
    assert sorted(got) == sorted(oai_id(r) for r in archive.record_ids())
    files = 0
    for i in range(archive.size):
        expected = archive.expected_record(i, files_base=base)
        record = got[oai_id(expected["record_id"])]
        for name in ("title", "date", "summary", "authors", "subjects", "places", "source",
                     "rights", "type", "languages"):
            assert record[name] == expected[name], (expected["record_id"], name)
        assert record["url"] == expected["url"].replace(
            "https://digitalarchive.wilsoncenter.org", base)  # the page on this host
        assert record["status"] == "active"
        assert record["oai_datestamp"][:10] == archive.document(i).uploaded
        assert len(record["files"]) == len(expected["files"])
        for stored in record["files"]:
            body = (tmp_path / stored["key"]).read_bytes()
            assert body.startswith(b"%PDF") and len(body) == stored["size"]
            assert expected["record_id"].encode() in body  # the document's own PDF
        files += len(record["files"])
    assert files > 20 and pdf_count(served) == files  # each PDF fetched once
    report = last_report(tmp_path)
    assert report["mode"] == "backfill" and report["counts"]["new"] == 30
    verify = cli("verify", "--store", str(tmp_path))
    assert verify.code == 0 and f"verified 30 records, {files} files" in verify.stdout


def test_an_incremental_run_picks_up_new_edited_and_deleted_records(
        tmp_path: Path, served: SampleServer) -> None:
    harvest(served, tmp_path)
    control = served.control()
    ids = served.archive.record_ids()
    new = control.publish(3)
    for rid in ids[4:6]:
        control.edit(rid)
    for rid in ids[10:12]:
        control.withdraw(rid, 410)
    served.reset_stats()
    harvest(served, tmp_path)
    got = records(tmp_path)
    assert len(got) == 33
    assert changes(tmp_path) == sorted(
        [("new", oai_id(r)) for r in new] + [("changed", oai_id(r)) for r in ids[4:6]]
        + [("withdrawn", oai_id(r)) for r in ids[10:12]])
    for rid in ids[4:6]:
        truth = control.expected(rid)
        assert got[oai_id(rid)]["title"] == f"{truth['title']} (revised, edit 1)"
        assert got[oai_id(rid)]["summary"] == truth["summary"]
    assert {r for r, rec in got.items() if rec["status"] == "withdrawn"} \
        == {oai_id(r) for r in ids[10:12]}
    lists = [r for r in oai_requests(served) if r.get("verb") == "ListRecords"]
    assert len(lists) <= 2 and "Identify" not in {r.get("verb") for r in oai_requests(served)}
    assert pdf_count(served) == sum(len(got[oai_id(r)]["files"]) for r in new + ids[4:6])


def test_expiring_tokens_are_survived(tmp_path: Path, served: SampleServer) -> None:
    served.control().set_oai(expire_tokens_after=2)  # the 3rd list request: tokens refused
    harvest(served, tmp_path, "-s", "HARVESTER_OAI_WINDOWS=1")
    assert sorted(records(tmp_path)) == sorted(oai_id(r) for r in served.archive.record_ids())
    assert served.control().oai()["errors"] == {"badResumptionToken": 1}


def test_busy_answers_with_an_http_date_are_waited_out(tmp_path: Path,
                                                       served: SampleServer) -> None:
    served.control().set_oai(unavailable=2, retry_after=1)
    harvest(served, tmp_path, "-s", "HARVESTER_OAI_WINDOWS=1")
    assert len(records(tmp_path)) == 30
    state = served.control().oai()
    assert state["busy_answers"] == 2 and state["unavailable"] == 0
    assert state["early_retries"] == 0  # never asked again before the date given
    assert last_report(tmp_path)["stats"]["retry/retry_after"] == 2


def test_forbidden_characters_are_survived(tmp_path: Path, served: SampleServer) -> None:
    served.control().set_oai(forbidden_chars=True)  # in every record's title, description
    harvest(served, tmp_path, "-s", "HARVESTER_OAI_WINDOWS=1")
    got = records(tmp_path)
    assert len(got) == 30 and last_report(tmp_path)["counts"]["quarantined"] == 0
    for i in range(served.archive.size):
        expected = served.archive.expected_record(i)
        record = got[oai_id(expected["record_id"])]
        assert record["title"] == expected["title"] and record["summary"] == expected["summary"]


def test_day_granularity_is_respected(tmp_path: Path, served: SampleServer) -> None:
    control = served.control()
    control.set_oai(granularity="day")
    harvest(served, tmp_path, "-s", "HARVESTER_OAI_WINDOWS=4")
    assert len(records(tmp_path)) == 30
    control.advance_oai_clock(86_400)  # a day later: 2 new documents, 1 edited
    new = control.publish(2)
    edited = served.archive.record_ids()[7]
    control.edit(edited)
    harvest(served, tmp_path)
    got = records(tmp_path)
    assert len(got) == 32 and all(oai_id(r) in got for r in new)
    assert got[oai_id(edited)]["title"].endswith("(revised, edit 1)")
    asked = [r for r in oai_requests(served) if r.get("verb") == "ListRecords"]
    bounds = [r[name] for r in asked for name in ("from", "until") if name in r]
    assert bounds and all(len(b) == 10 for b in bounds), bounds  # never finer than a day
    assert "badArgument" not in control.oai()["errors"]


def test_demo_oai_harvests_the_sample_endpoint(tmp_path: Path) -> None:
    store = tmp_path / "store"
    run = cli("demo", "--oai", "--store", str(store), "--size", "20", cwd=tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    assert "OAI-PMH endpoint http://127.0.0.1:" in run.stdout
    got = records(store)
    assert len(got) == 20 and all(r["record_id"].startswith(ID_PREFIX) for r in got.values())
    files = sum(len(r["files"]) for r in got.values())
    assert files and f"demo: 20 records, {files} files, 0 quarantined in {store}" in run.stdout
    assert f"records: {store.resolve() / 'records' / NAME}" in run.stdout
    assert not (store / "records" / "wilson").exists()  # the OAI source only
