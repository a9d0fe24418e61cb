"""SpoolingStore: writes an unavailable store refused are kept locally and replayed once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from storage_support import FaultyFront, make_s3_store

from harvester.exceptions import StoreError
from pipelines.storage.local import LocalStore
from pipelines.storage.spool import SpoolingStore, _exclusive


class SwitchableStore(LocalStore):
    """A local store that can be switched off: then every call raises StoreError."""

    down = False

    def _fail(self) -> None:
        if self.down:
            raise StoreError("store switched off")

    def put(self, key, data, *, content_type=None, if_absent=False):  # type: ignore[no-untyped-def]
        self._fail()
        return super().put(key, data, content_type=content_type, if_absent=if_absent)

    def put_file(self, key, file, *, content_type=None, if_absent=False):  # type: ignore[no-untyped-def]
        self._fail()
        return super().put_file(key, file, content_type=content_type, if_absent=if_absent)

    def get(self, key):  # type: ignore[no-untyped-def]
        self._fail()
        return super().get(key)

    def exists(self, key):  # type: ignore[no-untyped-def]
        self._fail()
        return super().exists(key)

    def list(self, prefix=""):  # type: ignore[no-untyped-def]
        self._fail()
        return super().list(prefix)


@pytest.fixture
def inner(tmp_path: Path) -> SwitchableStore:
    return SwitchableStore(tmp_path / "inner")


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def spool_files(spool_dir: Path) -> list[str]:
    return sorted(p.relative_to(spool_dir).as_posix() for p in spool_dir.rglob("*")
                  if p.is_file() and p.name != ".lock")


def test_puts_pass_through_while_the_inner_store_works(inner, spool_dir) -> None:
    store = SpoolingStore(inner, spool_dir)
    assert store.put("records/wilson/1.json", b"{}") is True
    assert store.put("records/wilson/1.json", b"{}", if_absent=True) is False
    assert inner.get("records/wilson/1.json") == b"{}"
    assert (store.pending(), store.spooled) == (0, 0)
    assert store.flush() == (0, 0)


def test_refused_puts_are_spooled_and_visible(inner, spool_dir) -> None:
    inner.put("records/wilson/0.json", b"zero")
    store = SpoolingStore(inner, spool_dir, cooldown=0)
    inner.down = True
    assert store.put("records/wilson/1.json", b"one") is True
    assert store.put("records/wilson/2.json", b"two", if_absent=True) is True
    assert store.put("records/wilson/2.json", b"again", if_absent=True) is False
    assert (store.spooled, store.pending()) == (2, 2)
    assert store.get("records/wilson/1.json") == b"one"
    assert store.exists("records/wilson/2.json")
    with pytest.raises(StoreError):
        store.get("records/wilson/0.json")
    inner.down = False
    assert list(store.list("records/")) == [
        "records/wilson/0.json", "records/wilson/1.json", "records/wilson/2.json"]
    assert inner.get("records/wilson/1.json") is None


def test_flush_replays_in_order_and_empties_the_spool(inner, spool_dir) -> None:
    store = SpoolingStore(inner, spool_dir, cooldown=0)
    inner.down = True
    store.put("records/wilson/1.json", b"v1")
    store.put("records/wilson/2.json", b"other")
    store.put("records/wilson/1.json", b"v2")
    assert store.flush() == (0, 3)  # still down: nothing replayed, nothing lost
    inner.down = False
    assert store.flush() == (3, 0)
    assert inner.get("records/wilson/1.json") == b"v2"
    assert inner.get("records/wilson/2.json") == b"other"
    assert store.flushed == 3
    assert spool_files(spool_dir) == []
    assert store.flush() == (0, 0)


def test_a_newer_write_of_a_spooled_key_does_not_overtake_it(inner, spool_dir) -> None:
    store = SpoolingStore(inner, spool_dir, cooldown=0)
    inner.down = True
    store.put("records/wilson/1.json", b"old")
    inner.down = False
    assert store.put("records/wilson/1.json", b"new") is True  # queued behind "old"
    assert inner.get("records/wilson/1.json") is None
    assert store.get("records/wilson/1.json") == b"new"
    assert store.flush() == (2, 0)
    assert inner.get("records/wilson/1.json") == b"new"


def test_create_only_entries_never_overwrite_at_flush(inner, spool_dir) -> None:
    store = SpoolingStore(inner, spool_dir, cooldown=0)
    inner.down = True
    store.put("runs/wilson/a.json", b"spooled", if_absent=True)
    store.put("runs/wilson/b.json", b"spooled", if_absent=True)
    inner.down = False
    inner.put("runs/wilson/a.json", b"written meanwhile by another worker")
    assert store.get("runs/wilson/a.json") == b"written meanwhile by another worker"
    assert store.flush() == (1, 0)
    assert (store.flushed, store.skipped) == (1, 1)
    assert inner.get("runs/wilson/a.json") == b"written meanwhile by another worker"
    assert inner.get("runs/wilson/b.json") == b"spooled"


def test_after_a_failure_puts_skip_the_inner_store_for_the_cooldown(inner, spool_dir) -> None:
    calls: Counter[str] = Counter()
    real_put = inner.put

    def counting_put(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["put"] += 1
        return real_put(*args, **kwargs)

    inner.put = counting_put  # type: ignore[method-assign]
    store = SpoolingStore(inner, spool_dir, cooldown=0.3)
    inner.down = True
    for n in range(5):
        store.put(f"records/wilson/{n}.json", b"{}")
    assert calls["put"] == 1
    with pytest.raises(StoreError, match="unavailable"):
        store.exists("records/wilson/9.json")
    assert store.exists("records/wilson/3.json")
    inner.down = False
    time.sleep(0.35)
    store.put("records/wilson/9.json", b"{}")
    assert calls["put"] == 2
    assert inner.get("records/wilson/9.json") == b"{}"


def test_a_new_process_sees_and_flushes_an_old_spool(inner, spool_dir) -> None:
    inner.down = True
    SpoolingStore(inner, spool_dir).put("records/wilson/1.json", b"{}")
    inner.down = False
    later = SpoolingStore(inner, spool_dir)
    assert later.pending() == 1
    assert later.exists("records/wilson/1.json")
    assert later.flush() == (1, 0)
    assert inner.get("records/wilson/1.json") == b"{}"


def test_damaged_entries_are_set_aside(inner, spool_dir, caplog) -> None:
    store = SpoolingStore(inner, spool_dir, cooldown=0)
    inner.down = True
    store.put("records/wilson/1.json", b"good")
    store.put("records/wilson/2.json", b"will be damaged")
    store.put("records/wilson/3.json", b"good")
    damaged = sorted(spool_dir.glob("entries/*.data"))[1]
    damaged.write_bytes(b"bit rot")
    (spool_dir / "entries" / "zzz.json").write_text("not json")
    inner.down = False
    assert store.flush() == (2, 0)
    assert store.corrupt == 2
    assert inner.get("records/wilson/2.json") is None
    assert sorted(p.name for p in (spool_dir / "corrupt").iterdir()) == [
        damaged.with_suffix(".json").name, "zzz.json"]
    assert "set aside" in caplog.text


def test_delete_drops_spooled_writes(inner, spool_dir) -> None:
    store = SpoolingStore(inner, spool_dir, cooldown=0)
    inner.down = True
    store.put("records/wilson/1.json", b"{}")
    inner.down = False
    store.delete("records/wilson/1.json")
    assert store.pending() == 0
    assert store.flush() == (0, 0)
    assert not inner.exists("records/wilson/1.json")


def test_a_flush_running_elsewhere_is_left_alone(inner, spool_dir) -> None:
    store = SpoolingStore(inner, spool_dir, cooldown=0)
    inner.down = True
    store.put("records/wilson/1.json", b"{}")
    inner.down = False
    with _exclusive(spool_dir / ".lock") as taken:
        assert taken
        assert store.flush() == (0, 1)
    assert store.flush() == (1, 0)


@pytest.fixture
def s3_spool(moto_s3, refused_url, spool_dir) -> Iterator[SpoolingStore]:
    dead = make_s3_store(refused_url, moto_s3.new_bucket())
    store = SpoolingStore(dead, spool_dir)
    try:
        yield store
    finally:
        store.close()


def test_s3_outage_is_spooled_then_flushed_into_a_working_s3_exactly_once(
    moto_s3, s3_spool: SpoolingStore, spool_dir: Path, faulty_front: FaultyFront,
) -> None:
    keys = [f"records/wilson/{n}.json" for n in range(6)]
    for key in keys:
        assert s3_spool.put(key, key.encode()) is True
    assert s3_spool.put("runs/wilson/r.json", b"report", if_absent=True) is True
    assert s3_spool.spooled == 7
    assert s3_spool.pending() == 7

    bucket = moto_s3.new_bucket()
    working = make_s3_store(faulty_front.url, bucket)
    next_run = SpoolingStore(working, spool_dir)
    try:
        assert next_run.flush() == (7, 0)
        assert next_run.flush() == (0, 0)
    finally:
        next_run.close()
    puts = Counter(path for method, path, status in faulty_front.seen if method == "PUT")
    assert sorted(puts.values()) == [1] * 7
    listing = moto_s3.client.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(item["Key"] for item in listing) == sorted(
        ["harvest/" + k for k in keys] + ["harvest/runs/wilson/r.json"])
    for key in keys:
        assert moto_s3.client.get_object(Bucket=bucket, Key="harvest/" + key)[
            "Body"].read() == key.encode()
    head = moto_s3.client.head_object(Bucket=bucket, Key="harvest/runs/wilson/r.json")
    assert head["ContentType"] == "application/json"
    assert spool_files(spool_dir) == []


def test_writers_sharing_a_spool_never_overwrite_each_others_entries(
        inner, spool_dir, monkeypatch) -> None:
    """Pods on several hosts share one spool volume, and in containers they are often all
    pid 1: two writers spooling at the same instant keep both objects."""
    inner.down = True
    one, two = SpoolingStore(inner, spool_dir), SpoolingStore(inner, spool_dir)
    monkeypatch.setattr(time, "time_ns", lambda: 1_700_000_000_000_000_000)
    assert one.put("records/wilson/1.json", b"one") and two.put("records/wilson/2.json", b"two")
    monkeypatch.undo()
    inner.down = False
    assert SpoolingStore(inner, spool_dir).flush() == (2, 0)
    assert inner.get("records/wilson/1.json") == b"one"
    assert inner.get("records/wilson/2.json") == b"two"


def test_a_file_put_goes_to_the_inner_store_or_whole_to_the_spool(inner, spool_dir) -> None:
    """A run's changes feed is written from its temporary file (put_file): copied by the
    inner store while it works; read whole into the spool when it does not, and replayed."""
    import tempfile

    from pipelines.storage.base import put_file

    store = SpoolingStore(inner, spool_dir, cooldown=0)
    feed = b"".join(b'{"record_id": "%d"}\n' % n for n in range(3000))
    with tempfile.TemporaryFile() as file:
        file.write(feed)
        assert put_file(store, "runs/wilson/a.changes.jsonl", file)
        assert inner.get("runs/wilson/a.changes.jsonl") == feed and store.spooled == 0
        inner.down = True
        assert put_file(store, "runs/wilson/b.changes.jsonl", file)
    assert (store.spooled, store.pending()) == (1, 1)
    assert store.get("runs/wilson/b.changes.jsonl") == feed
    inner.down = False
    assert store.flush() == (1, 0)
    assert inner.get("runs/wilson/b.changes.jsonl") == feed

