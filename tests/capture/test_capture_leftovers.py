"""WARC files a killed run left on local disk are stored by the next run of the same site and
store (harvester/capture/leftovers.py): whole records kept, a record the kill cut off dropped,
nothing stored twice, other sites', other stores' and live processes' folders left alone."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from harvester.capture.extension import WarcCapture
from harvester.capture.leftovers import complete_length
from harvester.capture.rolling import RollingWarcFile
from pipelines.storage.local import LocalStore

KILLED = "20240501T120000Z-killed01"
NEXT = "20240501T130000Z-next0001"

# a run that captures fetches, then is killed (SIGKILL) before its file rolls or is stored
KILLED_RUN = f"""
import os, signal, sys
from datetime import UTC, datetime
sys.path.insert(0, {str(Path(__file__).parent)!r})
from harvester.capture.exchange import Exchange
from harvester.capture.extension import WarcCapture
from pipelines.storage.local import LocalStore

capture = WarcCapture(store=LocalStore(sys.argv[1]), site="wilson", run_id={KILLED!r},
                      tmp_dir=sys.argv[2], store_tag="tag1")
for n in range(20):
    body = os.urandom(40000)  # incompressible: every record's member is written through
    capture.capture(Exchange(url=f"http://e.org/{{n}}", method="GET",
                             request_headers=[("Host", "e.org")], request_body=b"",
                             protocol="HTTP/1.1", status=200,
                             response_headers=[("Content-Type", "text/html")], body=body,
                             ip_address="192.0.2.1", date=datetime.now(UTC)))
capture._writer.submit(lambda: None).result()  # all 20 written to the file
os.kill(os.getpid(), signal.SIGKILL)
"""


def responses(data: bytes) -> list[str]:
    return [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(io.BytesIO(data))
            if r.rec_type == "response"]


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def leftover(tmp: Path, group: str, run: str, pid: int, urls: int) -> Path:
    """A complete WARC file of `urls` responses in a (dead) process's folder."""
    from test_capture_units import exchange  # the units' Exchange maker

    folder = tmp / "archive-harvester-warc" / group / f"{run}-{pid}"
    rolled: list[Path] = []
    warc = RollingWarcFile(folder, lambda seq: f"{run}-{seq:05d}.warc.gz", 1 << 30,
                           lambda path, seq: rolled.append(path), {"site": "wilson"})
    from harvester.capture.render import render_fetch

    for n in range(urls):
        warc.write_bytes(render_fetch(exchange(f"http://e.org/{n}", b"x" * 300), 6).data)
    warc.roll()
    return rolled[0]


def test_a_killed_runs_captures_are_stored_by_the_next_run(tmp_path: Path) -> None:
    store_dir, tmp = tmp_path / "store", tmp_path / "tmp"
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(store_dir), str(tmp)],
                            cwd=Path.cwd(), timeout=120, check=False)
    assert killed.returncode == -signal.SIGKILL
    left = list(tmp.rglob("*.warc.gz"))
    assert len(left) == 1 and left[0].stat().st_size > 20 * 40000
    store = LocalStore(store_dir)
    assert not list(store.list("raw/"))  # nothing stored before the kill
    with left[0].open("r+b") as f:  # the kill cut the last record off half-way
        f.truncate(left[0].stat().st_size - 20000)
    capture = WarcCapture(store=store, site="wilson", run_id=NEXT, tmp_dir=tmp,
                          store_tag="tag1")
    capture.close()
    keys = list(store.list("raw/wilson/"))
    assert keys == [f"raw/wilson/{KILLED}-00000.warc.gz"], keys
    data = store.get(keys[0])
    assert data is not None
    assert responses(data) == [f"http://e.org/{n}" for n in range(19)]  # whole ones, in order
    assert not list(tmp.rglob("*.warc.gz"))  # the killed run's folder is gone
    assert not (tmp / "archive-harvester-warc" / "wilson-tag1" / left[0].parent.name).exists()


def test_a_file_stored_before_the_kill_is_not_stored_twice(tmp_path: Path) -> None:
    store, tmp = LocalStore(tmp_path / "store"), tmp_path / "tmp"
    path = leftover(tmp, "wilson-tag1", KILLED, dead_pid(), 3)
    store.put(f"raw/wilson/{path.name}", path.read_bytes())  # stored; then killed
    other = leftover(tmp, "wilson-tag1", KILLED, dead_pid(), 2)  # a second dead process
    other = other.rename(other.with_name(f"{KILLED}-00007.warc.gz"))
    WarcCapture(store=store, site="wilson", run_id=NEXT, tmp_dir=tmp, store_tag="tag1").close()
    keys = sorted(store.list("raw/wilson/"))
    assert keys == [f"raw/wilson/{KILLED}-00000.warc.gz", f"raw/wilson/{KILLED}-00007.warc.gz"]
    assert [len(responses(store.get(k) or b"")) for k in keys] == [3, 2]


def test_other_stores_sites_and_live_processes_keep_their_files(tmp_path: Path) -> None:
    store, tmp = LocalStore(tmp_path / "store"), tmp_path / "tmp"
    elsewhere = leftover(tmp, "wilson-othertag", KILLED, dead_pid(), 1)  # another store's
    alive = leftover(tmp, "wilson-tag1", KILLED, os.getppid(), 1)  # a process still running
    WarcCapture(store=store, site="wilson", run_id=NEXT, tmp_dir=tmp, store_tag="tag1").close()
    assert not list(store.list("raw/"))
    assert elsewhere.exists() and alive.exists()


def test_complete_length_cuts_back_to_the_last_whole_record(tmp_path: Path) -> None:
    data = leftover(tmp_path, "g", KILLED, dead_pid(), 4).read_bytes()
    assert complete_length(data) == len(data)
    ends = set()
    for cut in range(0, len(data), 97):
        n = complete_length(data[:cut])
        assert n <= cut
        ends.add(n)
        got = responses(data[:n]) if n else []  # reads without an error
        assert got == [f"http://e.org/{i}" for i in range(len(got))]
    assert len(ends) >= 5  # warcinfo, then each fetch's response and request
    assert complete_length(b"not a gzip member at all") == 0
