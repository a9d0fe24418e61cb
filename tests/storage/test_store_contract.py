"""The Store contract, run against the local directory and S3 (moto over HTTP) alike."""

from __future__ import annotations

import threading

import pytest

from harvester.exceptions import UnsafeKey
from pipelines.storage.base import Store

UNSAFE_KEYS = [
    "../escape.json",
    "records/../../escape.json",
    "records/./x.json",
    "/etc/passwd",
    "records//x.json",
    "records/x.json/",
    "records\\x.json",
    "records/x\x00.json",
    "records/x\n.json",
    "records/x\x1b.json",
    "",
    ".tmp/x",
    "a" * 1100,
]


def test_put_get_exists_delete_round_trip(backend) -> None:
    store: Store = backend.store
    key = "records/wilson/114921.json"
    assert store.get(key) is None
    assert not store.exists(key)
    assert store.put(key, b'{"a": 1}') is True
    assert store.exists(key)
    assert store.get(key) == b'{"a": 1}'
    assert store.put(key, b'{"a": 2}') is True  # a plain put overwrites
    assert store.get(key) == b'{"a": 2}'
    store.delete(key)
    assert store.get(key) is None
    assert not store.exists(key)
    store.delete(key)  # missing: no error


def test_keys_of_any_identifier_round_trip_and_list_back(backend) -> None:
    from harvester import keys

    ids = ["oai:example.org:123/x", "100005", "..", "\u00fc b", "a%2Fb", "a+b=c&d?e#f"]
    for record_id in ids:
        assert backend.store.put(keys.record_key("wilson", record_id), record_id.encode())
    listed = list(backend.store.list(keys.record_prefix("wilson")))
    assert listed == sorted(keys.record_key("wilson", i) for i in ids)
    assert sorted(str(keys.record_id_of_key("wilson", key)) for key in listed) == sorted(ids)
    for record_id in ids:
        assert backend.store.get(keys.record_key("wilson", record_id)) == record_id.encode()


def test_binary_and_empty_objects_round_trip(backend) -> None:
    data = bytes(range(256)) * 64
    assert backend.store.put("files/wilson/1/scan.pdf", data)
    assert backend.store.put("state/wilson/empty", b"")
    assert backend.store.get("files/wilson/1/scan.pdf") == data
    assert backend.store.get("state/wilson/empty") == b""


def test_if_absent_writes_only_once(backend) -> None:
    store: Store = backend.store
    key = "runs/wilson/20240101T000000Z-abcdef.json"
    assert store.put(key, b"first", if_absent=True) is True
    assert store.put(key, b"second", if_absent=True) is False
    assert store.get(key) == b"first"
    assert store.put(key, b"third") is True
    assert store.get(key) == b"third"


def race_create_only(store: Store, key: str, writers: int) -> dict[int, bool]:
    """Start `writers` threads at once, each putting its own bytes create-only at `key`."""
    barrier = threading.Barrier(writers)
    results: dict[int, bool] = {}

    def writer(n: int) -> None:
        barrier.wait()
        results[n] = store.put(key, f"writer {n}".encode(), if_absent=True)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_threads_racing_create_only_exactly_one_wins(backend) -> None:
    for round_ in range(5):
        key = f"state/wilson/race-{round_}"
        results = race_create_only(backend.store, key, 8)
        winners = [n for n, won in results.items() if won]
        assert len(results) == 8
        assert len(winners) == 1
        assert backend.store.get(key) == f"writer {winners[0]}".encode()


def test_list_is_lexical_and_respects_prefix(backend) -> None:
    store: Store = backend.store
    keys = ["records/wilson/b.json", "records/wilson/a.json", "records/wilson-x/a.json",
            "records/wilson/a/b.json", "records/wilson/a-b.json", "records/wilsonz.json",
            "files/wilson/1/x.pdf", "records/wilson/10.json", "records/wilson/9.json"]
    for key in keys:
        store.put(key, b"x")
    assert list(store.list("")) == sorted(keys)
    assert list(store.list("records/wilson/")) == sorted(
        k for k in keys if k.startswith("records/wilson/"))
    assert list(store.list("records/wilson")) == sorted(
        k for k in keys if k.startswith("records/wilson"))
    assert list(store.list("records/wilson/a")) == [
        "records/wilson/a-b.json", "records/wilson/a.json", "records/wilson/a/b.json"]
    assert list(store.list("nothing/")) == []


def test_list_pages_through_many_keys(backend) -> None:
    keys = [f"records/wilson/{n:05d}.json" for n in range(30)]  # the test S3 pages hold 7
    for key in keys:
        backend.store.put(key, b"{}")
    assert list(backend.store.list("records/wilson/")) == keys


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_rejected_and_nothing_is_written(backend, key: str) -> None:
    store: Store = backend.store
    with pytest.raises(UnsafeKey):
        store.put(key, b"evil")
    with pytest.raises(UnsafeKey):
        store.put(key, b"evil", if_absent=True)
    with pytest.raises(UnsafeKey):
        store.get(key)
    with pytest.raises(UnsafeKey):
        store.exists(key)
    with pytest.raises(UnsafeKey):
        store.delete(key)
    assert backend.raw_names() == []


@pytest.mark.parametrize("prefix", ["../", "/abs", "a/../", "..", "a//b", "x\x00"])
def test_unsafe_list_prefixes_are_rejected(backend, prefix: str) -> None:
    with pytest.raises(UnsafeKey):
        list(backend.store.list(prefix))


def test_everything_lands_under_the_root_or_prefix(backend) -> None:
    backend.store.put("records/wilson/1.json", b"{}")
    backend.store.put("files/wilson/1/a b (1).pdf", b"%PDF")
    names = backend.raw_names()
    assert names
    assert all(name.startswith(backend.outside_root) for name in names), names
    assert backend.outside_root + "records/wilson/1.json" in names
    assert backend.outside_root + "files/wilson/1/a b (1).pdf" in names


def test_delete_all_removes_every_key_in_batches_where_it_can(backend) -> None:
    """`delete_all`: S3's DeleteObjects (1,000 keys a request; 7 in these tests, so the
    batches are exercised), one by one elsewhere; keys already gone are no error; other
    keys stay."""
    from pipelines.storage.base import delete_all

    keys = [f"state/wilson/changes/r/part-{n:04d}.json" for n in range(17)]
    for key in keys:
        backend.store.put(key, b"{}")
    backend.store.put("state/wilson/keep.json", b"{}")
    delete_all(backend.store, [*keys, "state/wilson/changes/r/never-written.json"])
    assert list(backend.store.list("state/wilson/")) == ["state/wilson/keep.json"]


@pytest.mark.parametrize("streamed", [False, True])
def test_a_file_is_put_and_read_back_without_its_bytes_in_memory(
        backend, monkeypatch: pytest.MonkeyPatch, streamed: bool) -> None:
    """`put_file` / `open_read` (pipelines/storage/base.py): a 100,000-record changes feed is
    written from its temporary file and read back as a file. On S3 the PUT's body is the file
    itself (`streamed`: from STREAM_OVER bytes; smaller ones go through `put`), and a read
    copies the object to a temporary file; locally both are the files themselves."""
    import tempfile

    from pipelines.storage import s3 as s3_module
    from pipelines.storage.base import open_read, put_file

    if streamed:
        monkeypatch.setattr(s3_module, "STREAM_OVER", 0)
        monkeypatch.setattr(s3_module, "COPY_BLOCK", 4096)
    data = b"".join(b'{"record_id": "%d", "change": "new"}\n' % n for n in range(40000))
    key = "runs/wilson/20260101T000000Z-abcdef12.changes.jsonl"
    with tempfile.TemporaryFile() as file:
        file.write(data)  # left at its end: put_file writes the whole file anyway
        assert put_file(backend.store, key, file, content_type="application/x-ndjson")
        assert put_file(backend.store, key, file, if_absent=True) is False  # there already
    assert backend.store.get(key) == data
    opened = open_read(backend.store, key)
    assert opened is not None
    with opened:
        assert sum(1 for _ in opened) == 40000
        opened.seek(0)
        assert opened.read() == data
    assert open_read(backend.store, "runs/wilson/never-written.changes.jsonl") is None
    with tempfile.TemporaryFile() as empty:
        assert put_file(backend.store, "state/wilson/empty.json", empty)
    assert backend.store.get("state/wilson/empty.json") == b""
