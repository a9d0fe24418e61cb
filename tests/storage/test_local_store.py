"""LocalStore: atomic writes, crash leftovers, URIs, and staying inside the root."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harvester.exceptions import StoreError, UnsafeKey
from pipelines.storage.base import open_store
from pipelines.storage.local import LocalStore


def files_under(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if not p.is_dir())


def test_from_uri_takes_plain_paths_and_file_uris(tmp_path: Path, monkeypatch) -> None:
    assert LocalStore.from_uri(str(tmp_path / "a")).root == tmp_path / "a"
    assert LocalStore.from_uri((tmp_path / "b c").as_uri()).root == tmp_path / "b c"
    assert LocalStore.from_uri(f"file://localhost{tmp_path}/d").root == tmp_path / "d"
    monkeypatch.chdir(tmp_path)
    store = open_store("./harvest-data")
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "harvest-data"
    assert store.uri == (tmp_path / "harvest-data").as_uri()
    with pytest.raises(StoreError):
        LocalStore.from_uri("file://elsewhere/data")


def test_failed_write_leaves_no_file_and_keeps_the_old_object(tmp_path: Path, monkeypatch) -> None:
    store = LocalStore(tmp_path)
    store.put("records/wilson/1.json", b"old")

    def crash(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(StoreError, match="No space left on device"):
        store.put("records/wilson/1.json", b"new and longer")
    with pytest.raises(StoreError):
        store.put("records/wilson/2.json", b"new", if_absent=True)
    monkeypatch.undo()
    assert store.get("records/wilson/1.json") == b"old"
    assert not store.exists("records/wilson/2.json")
    assert files_under(tmp_path) == ["records/wilson/1.json"]  # no temp file left


def test_process_killed_mid_write_leaves_nothing_visible(tmp_path: Path) -> None:
    script = (
        "import os, sys\n"
        "from pipelines.storage.local import LocalStore\n"
        "store = LocalStore(sys.argv[1])\n"
        "os.replace = lambda *a, **k: os._exit(9)  # dies between the write and the rename\n"
        "store.put('records/wilson/1.json', b'x' * 100000)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=Path.cwd(),
                          timeout=60, check=False)
    assert done.returncode == 9
    store = LocalStore(tmp_path)
    leftovers = [n for n in files_under(tmp_path) if n.startswith(".tmp/")]
    assert len(leftovers) == 1
    assert not store.exists("records/wilson/1.json")
    assert store.get("records/wilson/1.json") is None
    assert list(store.list("")) == []
    assert store.remove_stale_temp_files(older_than=3600) == 0
    assert store.remove_stale_temp_files(older_than=-1) == 1
    assert files_under(tmp_path) == []


def test_a_dead_writers_temp_file_is_removed_and_never_reused(tmp_path: Path) -> None:
    """Temp files are numbered a process apart: a killed writer's leftover is known as its
    (dead) process's and removed; a later process, even one that got the same pid, writes
    under other names (a random part drawn once a process)."""
    script = (
        "import os, sys\n"
        "from pipelines.storage.local import LocalStore\n"
        "store = LocalStore(sys.argv[1])\n"
        "store.put('records/wilson/0.json', b'ok')\n"
        "os.replace = lambda *a, **k: os._exit(9)\n"
        "store.put('records/wilson/1.json', b'x')\n"
    )
    runs = [subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=Path.cwd(),
                           timeout=60, check=False) for _ in range(2)]
    assert [r.returncode for r in runs] == [9, 9]
    leftovers = sorted(n for n in files_under(tmp_path) if n.startswith(".tmp/"))
    assert len(leftovers) == 2 and leftovers[0] != leftovers[1]  # not the same name twice
    store = LocalStore(tmp_path)
    assert store.remove_orphan_temp_files() == 2  # their processes are gone
    assert [n for n in files_under(tmp_path) if n.startswith(".tmp/")] == []
    assert store.get("records/wilson/0.json") == b"ok"
    for n in range(50):  # this process's own puts never collide
        store.put(f"records/wilson/n{n}.json", b"y")
    names = {p.name for p in (tmp_path / "records" / "wilson").iterdir()}
    assert len(names) == 51


def test_readers_never_see_a_half_written_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, fsync=False)
    versions = [bytes([n]) * 2_000_000 for n in range(1, 4)]
    store.put("files/wilson/1/scan.pdf", versions[0])
    stop = threading.Event()
    seen: list[bytes | None] = []

    def reader() -> None:
        while not stop.is_set():
            seen.append(store.get("files/wilson/1/scan.pdf"))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(30):
            store.put("files/wilson/1/scan.pdf", versions[round_ % 3])
    finally:
        stop.set()
        thread.join()
    assert seen
    assert all(data in versions for data in seen)


def test_keys_through_a_symlink_out_of_the_root_are_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    store = LocalStore(tmp_path / "root")
    (tmp_path / "root" / "records").mkdir()
    (tmp_path / "root" / "records" / "wilson").symlink_to(outside)
    with pytest.raises(UnsafeKey):
        store.put("records/wilson/1.json", b"{}")
    with pytest.raises(UnsafeKey):
        store.get("records/wilson/1.json")
    with pytest.raises(UnsafeKey):
        list(store.list("records/wilson/"))
    assert list(store.list("")) == []  # links are not followed by list
    assert files_under(outside) == []


def test_folders_are_not_objects(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("records/wilson/1.json", b"{}")
    assert store.get("records/wilson") is None
    assert not store.exists("records/wilson")
    store.delete("records/wilson")
    assert store.get("records/wilson/1.json/x") is None
    with pytest.raises(StoreError):
        store.put("records/wilson", b"clashes with a folder")
    assert store.get("records/wilson/1.json") == b"{}"


def test_create_only_write_does_not_replace_a_file_written_meanwhile(
    tmp_path: Path, monkeypatch,
) -> None:
    store = LocalStore(tmp_path)
    real_link = os.link

    def link_after_rival(src: str, dst: str) -> None:  # another process wins the race
        Path(dst).write_bytes(b"rival")
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link_after_rival)
    assert store.put("state/wilson/lock", b"mine", if_absent=True) is False
    monkeypatch.undo()
    assert store.get("state/wilson/lock") == b"rival"
    assert files_under(tmp_path) == ["state/wilson/lock"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_writers_temp_files_are_its_own(tmp_path: Path) -> None:
    """A process that forks after writing (a worker started from a running crawl) names its
    temp files after its own pid, not its parent's: a child killed mid-write leaves a file
    that is known as a dead process's and removed while the parent still runs."""
    store = LocalStore(tmp_path)
    store.put("records/wilson/0.json", b"ok")  # the parent's prefix is drawn
    pid = os.fork()
    if pid == 0:  # the child: dies in the middle of a write
        os.replace = lambda *a, **k: os._exit(9)  # type: ignore[assignment]
        try:
            store.put("records/wilson/1.json", b"x")
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9
    leftovers = [n for n in files_under(tmp_path) if n.startswith(".tmp/")]
    assert len(leftovers) == 1 and f"-{pid}-" in leftovers[0]
    assert store.remove_orphan_temp_files() == 1  # the child is gone, the parent is not
    store.put("records/wilson/2.json", b"z")
    assert store.get("records/wilson/2.json") == b"z"
    assert [n for n in files_under(tmp_path) if n.startswith(".tmp/")] == []
