"""Batched seen markers (harvester/seenindex.py behind HarvestState): written a batch at a
time, read once per run, merged when many, and the per-URL markers of older stores still
read. On the local store here; the S3 crawl tests run the same layout against moto and Ceph."""

from __future__ import annotations

import json
from pathlib import Path

from unit_counting_store import CountingStore

from harvester.state import HarvestState
from pipelines.storage.local import LocalStore

SITE = "wilson"
BATCHES = "state/wilson/seen-batch/"


def url(n: int) -> str:
    return f"https://digitalarchive.wilsoncenter.org/document/doc-{n}"


def batched(store: LocalStore, run_id: str = "20260101T000000Z-aaaaaa") -> HarvestState:
    return HarvestState(store, SITE, batch_seen=True, run_id=run_id)


def test_markers_wait_for_the_batch_and_are_read_back_by_a_later_run(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "store")
    state = batched(store)
    for n in range(50):
        state.mark_seen(url(n), str(n), f"{n:064d}", "C1")
    assert state.get_seen(url(7))["record_id"] == "7"  # known at once in this run
    assert not [c for c in store.calls if c[0] == "put"]  # nothing written yet
    state.flush_seen()
    assert [k for k in store.list(BATCHES)] and not list(store.list("state/wilson/seen/"))
    puts = [c for c in store.calls if c[0] == "put"]
    assert len(puts) == 1 and puts[0][1].startswith(BATCHES)

    store.calls.clear()
    later = batched(store, "20260102T000000Z-bbbbbb")
    found = [later.get_seen(url(n)) for n in range(60)]
    assert [m["record_id"] for m in found[:50]] == [str(n) for n in range(50)]
    assert found[50:] == [None] * 10
    assert found[3] == {"url": "/document/doc-3", "record_id": "3",
                        "content_sha256": f"{3:064d}", "campaign": "C1"}
    gets = [c for c in store.calls if c[0] == "get"]
    assert len(gets) == 1  # one batch object for 60 lookups, no per-URL reads
    # one listing of state/wilson/ says both: the batches, and no per-URL marker
    assert [c for c in store.calls if c[0] == "list"] == [("list", "state/wilson/")]


def test_a_cursor_save_writes_the_markers_first(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "store")
    state = batched(store)
    state.mark_seen(url(1), "1", "a" * 64, "C1")
    state.save_backfill({"id": "C1", "status": "running", "cursor": 3})
    puts = [key for op, key in store.calls if op == "put"]
    assert puts[0].startswith(BATCHES) and puts[1] == "state/wilson/backfill.json"
    assert batched(store, "20260102T000000Z-bbbbbb").get_seen(url(1))["campaign"] == "C1"


def test_per_url_markers_of_older_stores_are_read_and_batched_ones_win(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    old = HarvestState(store, SITE)  # one object per URL, as earlier versions wrote
    old.mark_seen(url(1), "1", "a" * 64, "C1")
    old.mark_seen(url(2), "2", "b" * 64, "C1")
    assert len(list(store.list("state/wilson/seen/"))) == 2
    state = batched(store)
    assert state.get_seen(url(1))["content_sha256"] == "a" * 64
    state.mark_seen(url(2), "2", "c" * 64, "C2")
    state.flush_seen()
    again = batched(store, "20260102T000000Z-bbbbbb")
    assert again.get_seen(url(2))["content_sha256"] == "c" * 64  # the batch is newer
    assert again.get_seen(url(1))["content_sha256"] == "a" * 64  # still read per URL
    markers = sorted((m["record_id"], m["campaign"]) for m in again.iter_markers())
    assert markers == [("1", "C1"), ("2", "C2")]
    # and a state writing per URL (a local store) reads the batched markers too
    assert HarvestState(store, SITE).get_seen(url(2))["content_sha256"] in ("b" * 64, "c" * 64)
    assert HarvestState(store, SITE).get_seen(url(9)) is None


def test_many_batch_objects_are_merged_at_the_end_of_a_run(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "store")
    for run in range(4):
        state = batched(store, f"2026010{run + 1}T000000Z-aaaaaa")
        state.mark_seen(url(run), str(run), f"{run:064d}", f"C{run}")
        state.mark_seen(url(99), "99", f"{run:064d}", f"C{run}")  # marked again each run
        state.flush_seen()
    assert len(list(store.list(BATCHES))) == 4
    batched(store, "20260105T000000Z-aaaaaa").close_seen()
    keys = list(store.list(BATCHES))
    assert len(keys) == 1
    merged = json.loads(store.get(keys[0]) or b"{}")
    assert merged["per_url"] is False and len(merged["markers"]) == 5
    store.calls.clear()
    later = batched(store, "20260106T000000Z-aaaaaa")
    assert later.get_seen(url(99))["campaign"] == "C3"  # the latest marker won
    assert [later.get_seen(url(n))["record_id"] for n in range(4)] == ["0", "1", "2", "3"]
    assert later.get_seen(url(50)) is None
    # one listing and one read: the merged object says no per-URL markers exist
    assert [op for op, _ in store.calls] == ["list", "get"]


def test_a_few_batch_objects_are_left_as_they_are(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    state = batched(store)
    state.mark_seen(url(1), "1", "a" * 64, "C1")
    state.close_seen()
    state = batched(store, "20260102T000000Z-bbbbbb")
    state.mark_seen(url(2), "2", "b" * 64, "C1")
    state.close_seen()
    assert len(list(store.list(BATCHES))) == 2
    store_calls = CountingStore(tmp_path / "store")
    later = batched(store_calls, "20260103T000000Z-cccccc")
    assert later.get_seen(url(2))["content_sha256"] == "b" * 64
    assert later.get_seen(url(3)) is None
    # the batches said no per-URL markers exist: a listing and two reads, no more
    assert [op for op, _ in store_calls.calls] == ["list", "get", "get"]


def test_a_run_that_only_marks_never_reads_the_markers_and_merges_within_a_bound(
        tmp_path: Path) -> None:
    """A listing that brings its records whole (OAI-PMH) only writes markers: the run
    reads none of the batches it did not write, and the end-of-run merge holds at most
    `merge_max` markers at once, neighbours merged so the latest marker still wins."""
    store = CountingStore(tmp_path / "store")
    for run in range(6):
        state = batched(store, f"2026010{run + 1}T000000Z-aaaaaa")
        for n in range(run * 3, run * 3 + 3):
            state.mark_seen(url(n), str(n), f"{run:064d}", f"C{run}")
        state.mark_seen(url(99), "99", f"{run:064d}", f"C{run}")  # marked again each run
        state.flush_seen()
    assert len(list(store.list(BATCHES))) == 6
    store.calls.clear()
    state = batched(store, "20260107T000000Z-aaaaaa")
    state.seen_index.merge_max = 8
    state.mark_seen(url(200), "200", "f" * 64, "C7")
    state.flush_seen()
    assert [op for op, key in store.calls if op == "get"] == []  # marking read nothing
    state.close_seen()
    keys = list(store.list(BATCHES))
    sizes = [len(json.loads(store.get(k) or b"{}")["markers"]) for k in keys]
    assert 1 < len(keys) < 7 and max(sizes) <= 8, sizes
    later = batched(store, "20260108T000000Z-aaaaaa")
    assert later.get_seen(url(99))["campaign"] == "C5"  # the latest marker won
    assert later.get_seen(url(200))["campaign"] == "C7"
    assert [later.get_seen(url(n))["record_id"] for n in range(18)] == \
        [str(n) for n in range(18)]


def test_a_run_that_read_the_markers_writes_one_object_in_place_of_those_it_read(
        tmp_path: Path) -> None:
    """Remote stores (rolling): the next run's first object holds every marker and the
    objects it read are deleted, so a run after it reads one object, cursor and per-URL
    word kept; one PUT and one DeleteObjects."""
    store = CountingStore(tmp_path / "store")
    first = HarvestState(store, SITE, batch_seen=True, run_id="20260101T000000Z-aaaaaa",
                         checkpoint_seconds=0.0)
    for n in range(20):
        first.mark_seen(url(n), str(n), f"{n:064d}", "C1")
    first.seen_index.set_resume("C1", {"page": 3})
    first.flush_seen()
    second = HarvestState(store, SITE, batch_seen=True, run_id="20260102T000000Z-bbbbbb",
                          checkpoint_seconds=0.0)
    assert second.get_seen(url(1))["record_id"] == "1"  # loads the index
    second.mark_seen(url(1), "1b", "f" * 64, "C2")  # changed
    second.mark_seen(url(30), "30", "e" * 64, "C2")  # new
    store.calls.clear()
    second.close_seen()
    assert len(store.ops("put", BATCHES)) == 1 and len(store.ops("delete", BATCHES)) == 1
    objects = list(store.list(BATCHES))
    assert len(objects) == 1 and "20260102T000000Z-bbbbbb" in objects[0]
    store.calls.clear()
    third = HarvestState(store, SITE, batch_seen=True, run_id="20260103T000000Z-cccccc",
                         checkpoint_seconds=0.0)
    found = {n: third.get_seen(url(n)) for n in (0, 1, 30)}
    assert found[0]["record_id"] == "0" and found[1]["record_id"] == "1b"
    assert found[30]["record_id"] == "30"
    assert len(store.ops("get", BATCHES)) == 1
    assert third.seen_index.resume_of("C1") == (True, {"page": 3})
    body = json.loads(store.get(objects[0]) or b"{}")
    assert body["per_url"] is False and body["resume"] == {"campaign": "C1",
                                                          "cursor": {"page": 3}}


def test_a_run_that_only_writes_markers_leaves_the_objects_it_never_read(
        tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "store")
    first = HarvestState(store, SITE, batch_seen=True, run_id="20260101T000000Z-aaaaaa",
                         checkpoint_seconds=0.0)
    first.mark_seen(url(1), "1", "a" * 64, "C1")
    first.flush_seen()
    second = HarvestState(store, SITE, batch_seen=True, run_id="20260102T000000Z-bbbbbb",
                          checkpoint_seconds=0.0)
    second.mark_seen(url(2), "2", "b" * 64, "C1")  # the index is never loaded
    second.close_seen()
    assert len(list(store.list(BATCHES))) == 2 and not store.ops("delete")
