"""The state's one listing of state/<site>/ on a remote store (harvester/state.py): a run's
start reads the journals of killed runs, failed/, seen-batch/, whether per-URL markers
exist, missing/ and the WARC payload indexes from one listing request instead of one per
folder; and a backfill that began in a store holding no record lists and reads nothing for
its withdrawal check (harvester/withdrawals.py, harvester/runplan.py). On a local store
that counts its calls (tests/crawl/test_s3_requests.py counts the same over HTTP)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from unit_counting_store import CountingStore

from harvester import runplan
from harvester import state as state_module
from harvester.capture.payloads import PayloadIndex
from harvester.capture.records import PayloadDigest
from harvester.runs import recover_interrupted, write_report
from harvester.state import HarvestState
from harvester.withdrawals import plan_checks

SITE = "wilson"
OLD = "20260101T000000Z-aaaaaa"  # a run killed mid-way
RUN = "20260102T000000Z-bbbbbb"


def url(n: int) -> str:
    return f"https://digitalarchive.wilsoncenter.org/document/doc-{n}"


class ListingFromStore(CountingStore):
    """A store that lists from a key, as S3 does (ListObjectsV2's StartAfter)."""

    etag_is_md5 = True  # S3's ETag of an object written by one PUT

    def list_after(self, prefix: str, start_after: str, meta=None):  # noqa: ANN001, ANN201
        self.calls.append(("list_after", f"{prefix}>{start_after}"))
        for key in super(CountingStore, self).list(prefix):
            if key > start_after:
                if meta is not None:
                    data = super(CountingStore, self).get(key) or b""
                    when = (self.root / key).stat().st_mtime_ns
                    tag = hashlib.md5(data).hexdigest() if self.etag_is_md5 else "x-1"
                    meta[key] = (tag, f"{when:020d}")
                yield key


def remote(store: CountingStore, run_id: str = RUN) -> HarvestState:
    return HarvestState(store, SITE, batch_seen=True, run_id=run_id, checkpoint_seconds=0.0)


def put_record(store: CountingStore, rid: str) -> None:
    store.put(f"records/{SITE}/{rid}.json", json.dumps(
        {"record_id": rid, "url": f"https://digitalarchive.wilsoncenter.org/document/doc-{rid}",
         "status": "active"}).encode())


def killed_run(store: CountingStore) -> None:
    """What a run killed mid-way leaves: a running report, journal parts, a failed URL,
    a seen batch, a missing mark and a payload index."""
    old = remote(store, OLD)
    write_report(store, {"site": SITE, "run_id": OLD, "status": "running",
                         "heartbeat_at": "2020-01-01T00:00:00Z"})
    old.write_journal_part(OLD, [{"record_id": "1", "change": "new"},
                                 {"record_id": "2", "change": "new"}])
    old.write_journal_part(OLD, [{"record_id": "3", "change": "changed"}])
    old.mark_failed(url(9), "timeout", OLD)
    old.mark_seen(url(1), "1", "a" * 64, OLD)
    old.flush_seen()
    store.put(f"state/{SITE}/missing/7.json", json.dumps(
        {"record_id": "7", "campaign": "C0", "url": url(7)}).encode())
    store.put(f"state/{SITE}/payloads/{OLD}-00000.json", json.dumps(
        {"warc": f"raw/{SITE}/{OLD}-00000.warc.gz",
         "payloads": {"ab" * 16: {"digest": "sha1:X", "uri": url(1), "date": "d",
                                  "record_id": "1"}}}).encode())


def test_a_runs_start_reads_every_state_folder_from_one_listing(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    killed_run(store)
    store.calls.clear()
    state = remote(store)
    recovered = recover_interrupted(store, state, SITE, RUN, stale_seconds=600)
    assert recovered == [OLD]  # the killed run's feed written from its journal
    feed = (store.get(f"runs/{SITE}/{OLD}.changes.jsonl") or b"").decode().splitlines()
    assert [json.loads(line)["record_id"] for line in feed] == ["1", "2", "3"]
    assert [f["url"] for f in state.iter_failed()] == ["/document/doc-9"]
    assert state.get_seen(url(1))["record_id"] == "1"  # the killed run's batch
    assert state.get_seen(url(2)) is None  # and no per-URL marker looked for
    assert state.listed(f"state/{SITE}/missing/") == [f"state/{SITE}/missing/7.json"]
    index = PayloadIndex(store, SITE, state.listed)
    assert index.find(PayloadDigest("ab" * 16, "sha1:X")) is not None
    # runs/ for the reports, state/<site>/ for everything else: two listings in all
    assert sorted(store.ops("list")) == [f"runs/{SITE}/", f"state/{SITE}/"]
    assert list(store.list(f"state/{SITE}/changes/")) == []  # the killed run's journal deleted


def test_per_url_markers_are_still_found_and_read(tmp_path: Path) -> None:
    """The listing stops at the first per-URL marker (seen/ sorts after the folders it
    answers for): they exist, so they are read, by a listing of their own."""
    store = CountingStore(tmp_path)
    HarvestState(store, SITE).mark_seen(url(5), "5", "c" * 64, "C0")  # an older version's
    old = remote(store, OLD)
    old.mark_seen(url(1), "1", "a" * 64, "C0")
    old.flush_seen()
    store.calls.clear()
    state = remote(store)
    assert state.get_seen(url(1))["record_id"] == "1"
    assert state.get_seen(url(5))["record_id"] == "5"
    assert {m["record_id"] for m in state.iter_markers()} == {"1", "5"}
    assert store.ops("list") == [f"state/{SITE}/", f"state/{SITE}/seen/"]


def test_the_seen_index_lists_again_once_it_wrote(tmp_path: Path) -> None:
    """The listing is the store as the run began: after the index writes, a look at the
    objects lists them (its own object among them)."""
    store = CountingStore(tmp_path)
    state = remote(store)
    assert state.get_seen(url(1)) is None
    state.mark_seen(url(1), "1", "a" * 64, RUN)
    state.flush_seen()
    assert len(state.seen_index._keys()) == 1
    assert store.ops("list") == [f"state/{SITE}/", f"state/{SITE}/seen-batch/"]


def test_a_local_state_lists_each_folder_itself(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    state = HarvestState(store, SITE)
    assert state.listed(f"state/{SITE}/failed/") is None
    assert list(state.iter_failed()) == []
    assert store.ops("list") == [f"state/{SITE}/failed/"]


def test_a_backfill_begun_in_an_empty_store_checks_nothing_at_its_end(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    state = remote(store)
    recover_interrupted(store, state, SITE, RUN, stale_seconds=600)  # the run's start
    mode, campaign = runplan.resolve_mode(state, store, SITE, "auto", RUN, "t0")
    assert mode == "backfill" and campaign is not None and state.began_on_empty == RUN
    for n in range(3):  # what the campaign stores
        put_record(store, str(n))
        state.mark_seen(url(n), str(n), "a" * 64, RUN)
    store.calls.clear()
    plan = plan_checks(store, state, SITE, RUN)
    assert plan.candidates == [] and plan.stale_missing == []
    assert store.calls == []  # the start's listing said it all


def test_a_campaign_begun_where_records_were_still_checks_them(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    put_record(store, "1")
    put_record(store, "2")
    state = remote(store)
    mode, campaign = runplan.resolve_mode(state, store, SITE, "backfill", RUN, "t0")
    assert mode == "backfill" and state.began_on_empty is None
    state.mark_seen(url(1), "1", "a" * 64, RUN)
    plan = plan_checks(store, state, SITE, RUN)
    assert [c.record_id for c in plan.candidates] == ["2"]  # the one the walk missed


def test_an_empty_store_with_a_missing_mark_is_planned_in_full(tmp_path: Path) -> None:
    """A missing mark left from records removed since: the check reads what it must, and
    the mark of a record the walk met again is stale (cleared)."""
    store = CountingStore(tmp_path)
    store.put(f"state/{SITE}/missing/1.json", json.dumps(
        {"record_id": "1", "campaign": "C0", "url": url(1)}).encode())
    state = remote(store)
    runplan.resolve_mode(state, store, SITE, "auto", RUN, "t0")
    assert state.began_on_empty == RUN
    put_record(store, "1")
    state.mark_seen(url(1), "1", "a" * 64, RUN)
    plan = plan_checks(store, state, SITE, RUN)
    assert plan.stale_missing == ["1"] and plan.active == 1


def test_runs_and_state_are_one_listing_on_a_store_that_lists_from_a_key(
        tmp_path: Path) -> None:
    store = ListingFromStore(tmp_path)
    killed_run(store)
    put_record(store, "1")
    store.put("versions/wilson/1/x.json", b"{}")  # after state/: never read
    store.calls.clear()
    state = remote(store)
    assert recover_interrupted(store, state, SITE, RUN, stale_seconds=600) == [OLD]
    assert [f["url"] for f in state.iter_failed()] == ["/document/doc-9"]
    assert state.get_seen(url(1))["record_id"] == "1"
    assert store.ops("list") == [] and store.ops("list_after") == [">runs/wilson."]
    assert f"runs/{SITE}/{OLD}.json" in (state.runs_listed or [])  # for the coverage check


def test_another_sites_keys_between_them_get_the_state_its_own_listing(
        tmp_path: Path) -> None:
    store = ListingFromStore(tmp_path)
    killed_run(store)
    write_report(store, {"site": "zeta", "run_id": OLD, "status": "finished"})  # runs/zeta/
    store.calls.clear()
    state = remote(store)
    assert recover_interrupted(store, state, SITE, RUN, stale_seconds=600) == [OLD]
    assert [f["url"] for f in state.iter_failed()] == ["/document/doc-9"]
    assert store.ops("list_after") == [">runs/wilson."]
    assert store.ops("list") == [f"state/{SITE}/"]


def test_the_plan_takes_an_object_the_fresh_listing_lacks_for_absent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's plan reads no campaign or walk the listing of a moment ago does not show;
    a worker joining a shared crawl (not planning) reads them; so does a plan whose listing
    is older than LISTING_TRUST_SECONDS, or after this state wrote the object."""
    store = CountingStore(tmp_path)
    state = remote(store)
    assert list(state.iter_failed()) == []  # the run's start: the state's listing
    mode, campaign = runplan.resolve_mode(state, store, SITE, "auto", RUN, "t0")
    walk = runplan.resolve_walk(state, RUN, "t0")
    assert mode == "backfill" and not walk.resumed
    assert store.ops("get", f"state/{SITE}/") == []  # neither object read
    other = remote(store, "20260103T000000Z-cccccc")
    list(other.iter_failed())
    store.put(f"state/{SITE}/incremental.json",  # written after the other's listing
              b'{"id": "W", "status": "running"}')
    assert other.load_incremental() == {"id": "W", "status": "running"}  # joiner: read
    monkeypatch.setattr(state_module, "LISTING_TRUST_SECONDS", 0.0)
    time_moved = remote(store, "20260104T000000Z-dddddd")
    list(time_moved.iter_failed())
    store.put(f"state/{SITE}/backfill.json", json.dumps(campaign).encode())
    assert time_moved.load_backfill(planning=True)["id"] == RUN  # too old to trust: read
    state.save_incremental({"id": RUN, "status": "complete"})
    state._objects.clear()  # past the reuse window
    assert state.load_incremental(planning=True) == {"id": RUN, "status": "complete"}


def test_the_plan_reads_the_campaign_from_the_walks_copy_when_the_etag_says_it_is_current(
        tmp_path: Path) -> None:
    """An idle incremental run after incremental runs: the walk object carries a copy of the
    campaign with its MD5; the listing's ETag of backfill.json is that MD5, so the plan
    reads the walk alone. A campaign begun since (another ETag) is read; so is one on a
    store whose ETags are not MD5s."""
    store = ListingFromStore(tmp_path)
    first = remote(store, OLD)
    list(first.iter_failed())
    runplan.resolve_mode(first, store, SITE, "backfill", OLD, "t0")
    first.save_backfill(runplan.completed(first.load_backfill(), "t1", 10))
    incremental = remote(store, "20260101T010000Z-cccccc")
    list(incremental.iter_failed())
    assert runplan.resolve_mode(incremental, store, SITE, "auto", "20260101T010000Z-cccccc",
                                "t2")[0] == "incremental"
    walk = runplan.resolve_walk(incremental, "20260101T010000Z-cccccc", "t2")
    incremental.save_incremental(runplan.completed(walk.walk, "t3", 11))
    assert "backfill_copy" not in (incremental.load_incremental() or {})

    store.calls.clear()
    idle = remote(store)
    list(idle.iter_failed())
    mode, _ = runplan.resolve_mode(idle, store, SITE, "auto", RUN, "t4")
    plan = runplan.resolve_walk(idle, RUN, "t4")
    assert mode == "incremental" and plan.walk["baseline_total"] == 11
    assert store.ops("get", f"state/{SITE}/") == [f"state/{SITE}/incremental.json"]

    store.etag_is_md5 = False  # another server's ETags: the campaign is read
    store.calls.clear()
    other = remote(store, "20260102T010000Z-ffffff")
    list(other.iter_failed())
    assert runplan.resolve_mode(other, store, SITE, "auto", RUN, "t4")[0] == "incremental"
    assert f"state/{SITE}/backfill.json" in store.ops("get", f"state/{SITE}/")
    store.etag_is_md5 = True

    begun = remote(store, "20260103T000000Z-dddddd")  # a new campaign, after the walk
    list(begun.iter_failed())
    runplan.resolve_mode(begun, store, SITE, "backfill", "20260103T000000Z-dddddd", "t5")
    store.calls.clear()
    later = remote(store, "20260104T000000Z-eeeeee")
    list(later.iter_failed())
    mode, campaign = runplan.resolve_mode(later, store, SITE, "auto", RUN, "t6")
    assert mode == "backfill" and campaign["id"] == "20260103T000000Z-dddddd"  # resumed
    assert f"state/{SITE}/backfill.json" in store.ops("get", f"state/{SITE}/")
