"""Withdrawals seen on the look-alike: documents gone from the listing and answering 410 or 404
after a complete backfill, checked by the next backfill campaigns; and sites that look broken
(404 everywhere, documents 404 while listed, an emptied search index) withdraw nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from lookalike_run import NO_FILES, Run, changes, harvest, records, report
from lookalike_site import LookalikeSite


def backfill(site: LookalikeSite, store: Path) -> Run:
    return harvest(site, store, "--mode", "backfill", *NO_FILES)


def statuses(store: Path) -> Counter[str]:
    return Counter(rec["status"] for rec in records(store).values())


def test_410_withdrawn_at_once_404_by_the_next_campaign_and_a_return_restores(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=70, markup="table")
    store = tmp_path / "store"
    first = backfill(site, store)
    assert first.code == 0
    before = records(store)
    docs = site.corpus.docs
    gone_410 = [d.record_id for d in docs[10:13]]
    gone_404 = [d.record_id for d in docs[20:23]]
    for rid in gone_410:
        site.withdraw(rid, 410)
    for rid in gone_404:
        site.withdraw(rid, 404)
    edited = site.edit(docs[30].record_id).record_id

    second = backfill(site, store)
    assert second.code == 0, second.stderr[-2000:]
    assert report(store, second.run_id)["campaign"] != report(store, first.run_id)["campaign"]
    got = records(store)
    for rid in gone_410:
        assert got[rid]["status"] == "withdrawn" and got[rid]["withdrawn_at"]
        assert got[rid]["title"] == before[rid]["title"] and got[rid]["texts"] == before[rid]["texts"]
        assert got[rid]["content_sha256"] == before[rid]["content_sha256"]
    for rid in gone_404:  # a first 404 only marks the record missing
        assert got[rid]["status"] == "active" and got[rid]["withdrawn_at"] is None
    assert got[edited]["summary"] == site.corpus.by_record_id(edited).summary
    old_version = store / "versions" / "wilson" / edited / f"{before[edited]['content_sha256']}.json"
    assert old_version.exists()  # the edit is a new version, the old one kept
    lines = {c["record_id"]: c["change"] for c in changes(store, second.run_id)}
    assert lines == {**dict.fromkeys(gone_410, "withdrawn"), edited: "changed"}
    assert statuses(store) == {"active": 67, "withdrawn": 3}

    third = backfill(site, store)
    assert third.code == 0, third.stderr[-2000:]
    got = records(store)
    for rid in gone_404:
        assert got[rid]["status"] == "withdrawn" and got[rid]["withdrawn_at"]
        assert got[rid]["content_sha256"] == before[rid]["content_sha256"]
    assert {c["record_id"]: c["change"] for c in changes(store, third.run_id)} == dict.fromkeys(
        gone_404, "withdrawn")
    assert statuses(store) == {"active": 64, "withdrawn": 6}

    del site.gone[gone_410[0]]  # the document is back
    fourth = backfill(site, store)
    assert fourth.code == 0
    assert records(store)[gone_410[0]]["status"] == "active"
    assert {c["record_id"]: c["change"] for c in changes(store, fourth.run_id)} == {
        gone_410[0]: "restored"}


def test_a_site_answering_404_everywhere_withdraws_nothing_and_exits_non_zero(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=70, markup="table")
    store = tmp_path / "store"
    assert backfill(site, store).code == 0
    site.everything_404 = True
    for _ in range(2):  # and not by the campaign after either
        run = backfill(site, store)
        assert run.code != 0 and run.reason
        assert statuses(store) == {"active": 70}


def test_documents_404_while_still_listed_withdraw_nothing(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=70, markup="table")
    store = tmp_path / "store"
    assert backfill(site, store).code == 0
    site.documents_404 = True
    for _ in range(2):
        run = backfill(site, store)
        assert run.code != 0 and run.reason
        assert statuses(store) == {"active": 70}


def test_an_emptied_search_index_withdraws_nothing(
        lookalike: Callable[..., LookalikeSite], tmp_path: Path) -> None:
    site = lookalike(size=70, markup="table")
    store = tmp_path / "store"
    assert backfill(site, store).code == 0
    site.empty_listing = True  # "No results found", every document page still served
    for _ in range(2):
        run = backfill(site, store)
        assert run.code != 0 and run.reason
        assert statuses(store) == {"active": 70}
