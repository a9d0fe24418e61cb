"""Harvests under site faults, store outages, SIGKILLs and site changes: nothing lost, nothing
stored twice, nothing false stored, and a clear exit status."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from crawl_proxies import RewritingProxy
from crawl_support import (
    FAST,
    HARVESTER,
    assert_matches_ground_truth,
    harvest,
    latest_report,
    local_records,
    local_reports,
)
from failing_pipeline import with_failing_pipeline

from harvester.sample import serve_subprocess
from harvester.sample.proxy import TcpProxy

SITE_FAULTS = {
    "503": {"rate": 0.12, "times": 1, "paths": "document|listing|download", "retry_after": 1},
    "429": {"rate": 0.08, "times": 1, "paths": "document|download", "retry_after": 1},
    "500": {"rate": 0.1, "times": 2, "paths": "document|download"},
    "challenge": {"rate": 0.15, "times": 1, "paths": "document|listing"},
    "truncate": {"rate": 0.1, "times": 1, "paths": "document|download"},
    "slow": {"rate": 0.05, "delay": 0.3, "paths": "document"},
    "reset": {"rate": 0.05, "times": 1, "paths": "document"},
    "redirect": {"rate": 0.2, "times": 1, "paths": "document"},
}


def _expected(control):
    return {r["record_id"]: r for r in control.archive().expected_records()}


def test_site_faults_lose_nothing_and_store_nothing_false(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=40, faults=SITE_FAULTS) as (base_url, control):
        first = harvest(str(store), base_url)
        assert first.code == 0, first.stderr[-3000:]
        report = latest_report(local_reports(store))
        injected = control.stats()["faults"]
        assert sum(injected.values()) >= 10, injected
        assert {"503", "challenge", "truncate", "redirect"} <= set(injected)
        assert report["requests"]["challenges"] >= 1
        # documents redirected to another host were refused, counted and listed for retry
        failed = report["counts"]["failed"]
        assert failed == len(list((store / "state" / "wilson" / "failed").glob("*.json")))
        assert len(local_records(store)) + failed == 40
        second = harvest(str(store), base_url)  # retries what failed
        assert second.code == 0, second.stderr[-3000:]
        assert_matches_ground_truth(local_records(store), _expected(control))
    assert not list((store / "state" / "wilson" / "failed").glob("*.json"))
    assert not (store / "quarantine").exists()
    for record in local_records(store).values():
        blob = json.dumps(record)
        assert "triggerInterstitialChallenge" not in blob and "_sec/verify" not in blob


def test_persistent_challenges_stop_the_run_cleanly(tmp_path: Path) -> None:
    faults = {"challenge": {"always": True, "paths": "document|listing"}}
    with serve_subprocess(size=20, faults=faults) as (base_url, control):
        run = harvest(str(tmp_path / "store"), base_url, "-s", "HARVESTER_CHALLENGE_LIMIT=4")
        served = control.stats()["requests"]
    assert run.code == 5
    assert "challenge" in run.stderr.splitlines()[-1]
    assert "Traceback" not in run.stderr
    assert served <= 8  # it stopped instead of hammering the site
    assert not (tmp_path / "store" / "records").exists()
    report = latest_report(local_reports(tmp_path / "store"))
    assert report["status"] == "stopped" and report["exit_code"] == 5


def _moto_bucket(moto_s3, name: str) -> str:
    return moto_s3.new_bucket(name)


def _keys(client, bucket: str, prefix: str = "") -> list[str]:
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def test_s3_outage_mid_run_spools_then_next_run_writes_everything(tmp_path: Path, moto_s3) -> None:
    host, port = urlsplit(moto_s3.endpoint_url).hostname, urlsplit(moto_s3.endpoint_url).port
    proxy = TcpProxy(host or "127.0.0.1", port or 80)
    bucket = _moto_bucket(moto_s3, "outage")
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
    uri = f"s3://{bucket}/p"
    try:
        with serve_subprocess(size=40) as (base_url, control):
            # each document page answers after 0.25 s: the run stores a record every ~0.3 s
            # at most, so the outage below begins well before the last of the 40 whatever the
            # machine's load (polled from here, a fast run once stored all 40 before it)
            control.set_faults({"slow": {"rate": 1.0, "delay": 0.25, "paths": "document"}})
            cmd = [*HARVESTER, "harvest", "wilson", "--store", uri, "--base-url", base_url, *FAST,
                   "-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                   "-s", "HARVESTER_S3_RETRY_ATTEMPTS=2", "-s", "HARVESTER_S3_RETRY_SECONDS=1",
                   "-s", "HARVESTER_SPOOL_COOLDOWN=60"]
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            deadline = time.monotonic() + 120
            while len(_keys(moto_s3.client, bucket, "p/records/")) < 8:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
            proxy.down = True  # the store goes away for the rest of the run
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 3, err[-3000:]
            assert "spool" in err.splitlines()[-1]
            stored_during = set(_keys(moto_s3.client, bucket, "p/records/"))
            assert 8 <= len(stored_during) < 40
            proxy.down = False  # back; the next run writes the spool first
            control.clear_faults()
            control.reset_stats()
            again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
            assert again.returncode == 0, again.stderr[-3000:]
            expected = _expected(control)
            fetched_again = control.stats()["by_kind"].get("document", 0)
    finally:
        proxy.close()
    client = moto_s3.client
    records = {}
    for key in _keys(client, bucket, "p/records/wilson/"):
        record = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        records[record["record_id"]] = record
    assert_matches_ground_truth(records, expected)
    assert not _keys(client, bucket, "p/versions/")  # nothing written twice as a "change"
    assert fetched_again == 0  # the spooled documents were not fetched again
    assert not list((tmp_path / "spool").rglob("*.json")) or all(
        "corrupt" not in str(p) for p in (tmp_path / "spool").rglob("*.json"))
    for record in records.values():
        for entry in record["files"]:
            head = client.head_object(Bucket=bucket, Key="p/" + entry["key"])
            assert head["ContentLength"] == entry["size"]


def _wait_records(store: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list((store / "records" / "wilson").glob("*.json"))) < n:
        assert proc.poll() is None, "the harvest ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_sigkill_twice_then_rerun_gives_the_complete_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=80) as (base_url, control):
        cmd = [*HARVESTER, "harvest", "wilson", "--store", str(store), "--base-url", base_url,
               *FAST, "-s", "DOWNLOAD_DELAY=0.02", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"]
        env = {**os.environ, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
        for threshold in (15, 45):
            proc = subprocess.Popen(cmd + ["--mode", "backfill"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait_records(store, threshold, proc)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
        assert final.returncode == 0, final.stderr[-3000:]
        expected = _expected(control)
        by_path = control.stats()["by_path"]
    records = local_records(store)
    assert_matches_ground_truth(records, expected)
    assert not (store / "versions").exists()  # no record was written twice as a change
    assert not [p for p in store.rglob("*") if p.is_file() and ".tmp" in p.parts]
    docs = {p: n for p, n in by_path.items() if p.startswith("/document/") and "/download" not in p}
    refetched = sum(n - 1 for n in docs.values())
    assert len(docs) == 80
    # only what was in flight at each kill: the requests, and the documents between their
    # fetch and their seen marker (files, then the journal's and the store's group commits,
    # a few tens of ms: the price of one fsync for many records instead of two per object)
    assert refetched <= 12, refetched
    # every record is in some run's changes feed (killed runs' feeds rebuilt from the journal)
    fed = set()
    for feed in (store / "runs" / "wilson").glob("*.changes.jsonl"):
        fed |= {json.loads(line)["record_id"] for line in feed.read_text().splitlines()}
    assert fed == set(records)
    statuses = sorted(r["status"] for r in local_reports(store))
    assert statuses == ["finished", "interrupted", "interrupted"]


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_killing_the_extraction_worker_loses_nothing(tmp_path: Path) -> None:
    """The page parser runs in a worker process; a worker killed mid-run (OOM killer, a crash)
    is replaced, the page it was parsing is parsed again, and the run ends complete."""
    store = tmp_path / "store"
    with serve_subprocess(size=40) as (base_url, control):
        cmd = [*HARVESTER, "harvest", "wilson", "--store", str(store), "--base-url", base_url,
               *FAST, "-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
               "-s", "HARVESTER_EXTRACT_WORKERS=1"]
        env = {**os.environ, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        killed = []
        for threshold in (5, 15):
            _wait_records(store, threshold, proc)
            workers = _children(proc.pid)
            assert len(workers) == 1, workers
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        expected = _expected(control)
    assert killed[0] != killed[1]  # the second kill hit the replacement
    assert_matches_ground_truth(local_records(store), expected)
    assert not (store / "quarantine").exists()
    report = latest_report(local_reports(store))
    assert report["stats"]["extract/worker_restarts"] == 2  # the run report, not the log
    assert report["counts"]["new"] == 40 and report["counts"]["quarantined"] == 0


def test_site_markup_change_is_flagged_with_exit_status(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_subprocess(size=40) as (base_url, _control):
        assert harvest(str(store), base_url).code == 0
        broken = RewritingProxy(base_url, lambda path, body: body.replace(
            b'class="text-block"', b'class="txt-blk"'))
        try:
            run = harvest(str(store), broken.url, "--mode", "backfill")
        finally:
            broken.close()
    assert run.code == 4, run.stderr[-3000:]
    assert "summary" in run.stderr.splitlines()[-1]
    report = latest_report(local_reports(store))
    assert [a["field"] for a in report["coverage_alerts"]] == ["summary"]
    assert report["coverage"]["summary"] == 0.0


def test_credentials_never_reach_logs_or_reports(tmp_path: Path) -> None:
    key_id, secret = "AKIAFAKEKEY1234567890", "s3cr3t-FAKE-do-not-log"
    env = {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "HARVESTER_SPOOL_DIR": str(tmp_path / "spool"),
           "AWS_DEFAULT_REGION": "us-east-1"}
    with serve_subprocess(size=5) as (base_url, _control):
        run = harvest("s3://bucket/prefix", base_url, "-s", "HARVESTER_S3_RETRY_ATTEMPTS=1",
                      "-s", "LOG_LEVEL=DEBUG", env=env)
    assert run.code != 0
    spooled = b"".join(p.read_bytes() for p in (tmp_path / "spool").rglob("*") if p.is_file())
    for text in (run.stdout, run.stderr, spooled.decode("utf-8", "replace")):
        assert key_id not in text and secret not in text
    assert "Traceback" not in run.stderr


def test_a_record_a_pipeline_fails_on_is_retried_next_run(tmp_path: Path) -> None:
    """An error in a pipeline (not a validation failure) leaves the record unstored: the
    document is recorded as failed, the report counts it, and the next run stores it."""
    store = tmp_path / "store"
    env = {"PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                          os.environ.get("PYTHONPATH", "")])}
    with serve_subprocess(size=20) as (base_url, control):
        expected = _expected(control)
        victim = sorted(expected)[7]
        first = harvest(str(store), base_url, *with_failing_pipeline(),
                        env={**env, "FAIL_RECORD_IDS": victim})
        report = latest_report(local_reports(store))
        assert victim not in local_records(store), first.stderr[-2000:]
        assert report["counts"]["failed"] == 1 and report["counts"]["new"] == 19
        failed = [json.loads(p.read_text()) for p in (store / "state" / "wilson" / "failed")
                  .glob("*.json")]
        assert len(failed) == 1 and f"injected failure for {victim}" in failed[0]["reason"]
        assert report["stats"]["documents/pipeline_errors"] == 1

        second = harvest(str(store), base_url, *with_failing_pipeline(), env=env)
        assert second.code == 0, second.stderr[-2000:]
    assert_matches_ground_truth(local_records(store), expected)
    assert not list((store / "state" / "wilson" / "failed").glob("*.json"))
    assert latest_report(local_reports(store))["counts"]["new"] == 1


def test_a_page_that_breaks_the_extractor_is_quarantined(tmp_path: Path) -> None:
    """An extractor bug on one page (an exception that is no ExtractionError) quarantines
    that page with the error as its reason; the run goes on and the report counts it."""
    store = tmp_path / "store"
    with serve_subprocess(size=12) as (base_url, control):
        expected = _expected(control)
        victim = sorted(expected)[3]
        for workers in ("1", "0"):  # in the extraction worker process, and inline
            shutil.rmtree(store, ignore_errors=True)
            slug = expected[victim]["url"].rsplit("/", 1)[1]
            run = _harvest_with_buggy_site(store, base_url, tmp_path, slug,
                                           "-s", f"HARVESTER_EXTRACT_WORKERS={workers}")
            assert run.returncode == 0, run.stderr[-3000:]
            records = local_records(store)
            assert sorted(records) == sorted(set(expected) - {victim})
            notes = [json.loads(p.read_text()) for p in (store / "quarantine").rglob("*.json")]
            assert len(notes) == 1 and notes[0]["url"].endswith(slug), notes
            assert notes[0]["error"] == "KeyError"
            assert "extractor error: KeyError" in notes[0]["reason"]
            report = latest_report(local_reports(store))
            assert report["counts"]["quarantined"] == 1 and report["counts"]["new"] == 11
            assert report["stats"]["documents/extractor_errors"] == 1


def test_a_listing_page_that_breaks_the_extractor_leaves_the_backfill_open(
        tmp_path: Path) -> None:
    """An extractor bug on a listing page stops the walk there with an error (exit status 6
    and the reason); the campaign is not taken for complete, and the next run walks on and
    stores the rest."""
    store = tmp_path / "store"
    small = ("-s", "HARVESTER_LISTING_PAGE_SIZE=10")
    with serve_subprocess(size=30) as (base_url, control):
        expected = _expected(control)
        run = _harvest_with_buggy_site(store, base_url, tmp_path, "&page=1", *small)
        assert run.returncode == 6, run.stderr[-3000:]
        assert "listing page 1 broke the extractor" in run.stderr.splitlines()[-1]
        assert len(local_records(store)) == 10  # page 0's documents
        backfill = json.loads((store / "state" / "wilson" / "backfill.json").read_text())
        assert backfill["status"] == "running"
        report = latest_report(local_reports(store))
        assert report["stats"]["listing/extractor_errors"] == 1
        assert report["exit_code"] == 6 and "listing page 1" in report["exit_reason"]

        again = _harvest_with_buggy_site(store, base_url, tmp_path, "", *small)
        assert again.returncode == 0, again.stderr[-3000:]
    assert_matches_ground_truth(local_records(store), expected)
    backfill = json.loads((store / "state" / "wilson" / "backfill.json").read_text())
    assert backfill["status"] == "complete"


def _harvest_with_buggy_site(store: Path, base_url: str, tmp_path: Path, url_part: str,
                             *args: str) -> subprocess.CompletedProcess[str]:
    """A harvest whose extractor raises KeyError on the URLs containing `url_part`
    (tests/crawl/buggy_site.py; "" for none)."""
    here = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]),
           "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
    if url_part:
        env["BUGGY_URL_PART"] = url_part
    cmd = [sys.executable, "-c", "import sys, buggy_site; sys.exit(buggy_site.run(sys.argv[1:]))",
           "harvest", "wilson", "--store", str(store), "--base-url", base_url, *FAST, *args]
    return subprocess.run(cmd, env=env, text=True, capture_output=True, timeout=240)
