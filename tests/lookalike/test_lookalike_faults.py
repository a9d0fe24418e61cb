"""Faults of the look-alike: 503/429 with Retry-After (seconds and HTTP-date), bot-challenge
interstitials (HTTP 200, meta refresh, triggerInterstitialChallenge(), POST /_sec/verify) on
documents, a listing page and a file, slow pages beyond the download timeout. Nothing lost,
no challenge stored or quarantined as a document."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lookalike_run import check, field_mismatches, harvest, records, report
from lookalike_site import LookalikeSite


def test_retry_after_challenges_and_slow_pages_lose_nothing(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=40, markup="table", max_per_page=25, crawl_delay=0.05)
    docs = sorted(site.corpus.docs, key=lambda d: -d.created)
    site.faults.update({
        "listing:0": ["503s"],
        "listing:1": ["503d", "challenge", "429"],
        docs[0].path: ["503s", "503d"],
        docs[1].path: ["429d", "429"],
        docs[2].path: ["challenge", "challenge"],
        docs[3].path: ["challenge"],
        docs[30].path: ["challenge", "503s"],
        docs[5].path: [("slow", 2.5)],  # beyond DOWNLOAD_TIMEOUT=1: a timeout, retried
        docs[6].path: [("slow", 0.6)],  # slow but within the timeout
        f"/document/{docs[7].nid}/download": ["503s", "challenge"],
    })
    faulty = set(site.faults)
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", "-s", "DOWNLOAD_TIMEOUT=1")
    assert run.code == 0, run.stderr[-2000:]
    got = records(store)
    assert field_mismatches(got, site) == []
    assert all(f["key"] for rec in got.values() for f in rec["files"])
    assert not any("Checking your browser" in rec["title"] for rec in got.values())
    assert not (store / "quarantine").exists() or not any((store / "quarantine").rglob("*.json"))
    assert all(not site.faults[key] for key in faulty)  # every fault was met
    rep = report(store, run.run_id)
    assert rep["counts"]["new"] == 40 and rep["counts"]["failed"] == 0
    assert rep["requests"]["challenges"] >= 6
    assert rep["politeness"]["crawl_delay"] == 0.05


def test_a_challenge_that_persists_stops_the_run_with_nothing_stored(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=15, markup="table")
    for doc in site.corpus.docs:
        site.faults[doc.path] = ["challenge"] * 50
    store = tmp_path / "store"
    run = harvest(site, store, "--mode", "backfill", "-s", "HARVESTER_DOWNLOAD_FILES=False")
    assert run.code == 5, run.stderr[-2000:]
    assert records(store) == {}
    assert not (store / "quarantine").exists() or not any((store / "quarantine").rglob("*.json"))
    for doc in site.corpus.docs:
        site.faults[doc.path] = []
    again = harvest(site, store, "-s", "HARVESTER_DOWNLOAD_FILES=False")
    assert again.code == 0
    assert field_mismatches(records(store), site, files=False) == []


def test_check_says_challenge_when_the_first_document_is_one(
        lookalike: Callable[..., LookalikeSite]) -> None:
    site = lookalike(size=5, markup="table")
    first = max(site.corpus.docs, key=lambda d: d.created)
    site.faults[first.path] = ["challenge"]
    preflight = check(site)
    assert preflight.code == 5, preflight.stdout + preflight.stderr
