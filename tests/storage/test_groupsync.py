"""LocalStore in group mode (pipelines/storage/groupsync.py): puts stop fsyncing, and a
barrier returns only after one sync covering every write made before it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from harvester.exceptions import StoreError
from pipelines.storage.groupsync import GroupSync, fsync_each
from pipelines.storage.local import LocalStore


class Recorder:
    """A sync that records what each call was given (and can be made to fail or wait)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, paths: list[str]) -> None:
        self.entered.set()
        self.gate.wait(10)
        if self.fail:
            raise OSError(5, "Input/output error")
        self.calls.append(list(paths))


def recorded_group(root: Path) -> tuple[LocalStore, Recorder, GroupSync]:
    """A local store in group mode whose syncs are recorded."""
    store, sync = LocalStore(root), Recorder()
    group = store.start_group_sync(sync)
    assert group is not None
    return store, sync, group


def test_group_puts_do_not_fsync_and_a_barrier_covers_them(tmp_path: Path, monkeypatch) -> None:
    store, sync, group = recorded_group(tmp_path)
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    for n in range(20):
        store.put(f"records/wilson/{n}.json", b"{}")
    store.put("state/wilson/seen/x.json", b"{}")  # bookkeeping: never synced
    assert fsyncs == []
    group.barrier().result(timeout=10)
    assert len(sync.calls) == 1  # twenty objects, one sync
    synced = set(sync.calls[0])
    for n in range(20):
        assert str(tmp_path / "records" / "wilson" / f"{n}.json") in synced
    assert str(tmp_path / "records" / "wilson") in synced  # the directory entries too
    assert not any("/seen/" in p for p in synced)
    assert (tmp_path / "records" / "wilson" / "7.json").read_bytes() == b"{}"
    store.close()


def test_a_barrier_waits_for_a_sync_that_started_after_it(tmp_path: Path) -> None:
    store, sync, group = recorded_group(tmp_path)
    store.put("records/wilson/1.json", b"1")
    sync.gate.clear()  # the first sync is held while the second write happens
    first = group.barrier()
    assert sync.entered.wait(10)
    store.put("records/wilson/2.json", b"2")
    second = group.barrier()
    assert first is not second and not second.done()
    sync.gate.set()
    first.result(timeout=10)
    second.result(timeout=10)
    assert any(str(tmp_path / "records" / "wilson" / "2.json") in call for call in sync.calls)
    store.close()


def test_a_failed_sync_fails_its_barrier_and_the_next_one_works(tmp_path: Path) -> None:
    store, sync, group = recorded_group(tmp_path)
    store.put("records/wilson/1.json", b"1")
    sync.fail = True
    with pytest.raises(StoreError, match="local sync failed"):
        group.barrier().result(timeout=10)
    sync.fail = False
    store.put("records/wilson/2.json", b"2")
    group.barrier().result(timeout=10)
    store.close()


def test_sync_and_close_make_writes_durable_and_a_closed_store_syncs_again(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    group = store.start_group_sync()  # the real one: syncfs on Linux
    assert group is not None
    store.put("records/wilson/1.json", b"1")
    store.sync()
    assert group.syncs == 1
    store.sync()  # nothing new: no sync
    assert group.syncs == 1
    store.put("records/wilson/2.json", b"2")
    store.close()
    assert group.syncs == 2
    store.put("records/wilson/3.json", b"3")  # after close: the syncer starts again
    store.sync()
    assert group.syncs == 3
    store.close()


def test_the_portable_sync_fsyncs_files_and_directories_once(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a").write_bytes(b"a")
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    fsync_each([str(tmp_path / "a"), str(tmp_path), str(tmp_path / "a"),
                str(tmp_path / "gone")])  # a path replaced since is skipped
    assert len(calls) == 2


def test_a_store_without_fsync_has_no_group(tmp_path: Path) -> None:
    assert LocalStore(tmp_path, fsync=False).start_group_sync() is None
    assert isinstance(LocalStore(tmp_path / "b").start_group_sync(), GroupSync)
