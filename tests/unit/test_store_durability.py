"""StorePipeline on a local store in group mode: a URL's seen marker is written only after
a sync that covered its record (a power loss can cost a refetch, never a record that is
marked harvested but not on disk), and records stored at the same time share syncs."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harvester.context import RunContext
from harvester.items import DocumentItem
from harvester.state import HarvestState
from pipelines.storage.local import LocalStore
from pipelines.storage.spool import SpoolingStore
from pipelines.store import StorePipeline


class WatchedStore(LocalStore):
    """Records which record files each sync covered, and checks every seen marker
    against them as it is written."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.synced: set[str] = set()
        self.early_markers: list[str] = []
        self.markers = 0
        self.syncs = 0
        self._watch = threading.Lock()

    def record_sync(self, paths: list[str]) -> None:
        with self._watch:
            self.synced.update(paths)
            self.syncs += 1

    def put(self, key: str, data: bytes, **kwargs: Any) -> bool:
        if key.startswith("state/wilson/seen/"):
            rid = json.loads(data)["record_id"]
            with self._watch:
                self.markers += 1
                if str(self.root / "records" / "wilson" / f"{rid}.json") not in self.synced:
                    self.early_markers.append(rid)
        return super().put(key, data, **kwargs)


class Stats(Counter):  # type: ignore[type-arg]
    def inc_value(self, key: str, count: int = 1) -> None:
        self[key] += count


def item(n: int) -> DocumentItem:
    url = f"http://127.0.0.1:1/document/{n}"
    record = {"record_id": str(n), "content_sha256": f"{n:064d}", "url": url,
              "title": f"Document {n}", "harvested_at": "2026-01-01T00:00:00Z"}
    return DocumentItem(url=url, listing_url=url, record=record, status="new", unseen=True)


def test_seen_markers_follow_the_sync_of_their_records(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path / "store")
    group = store.start_group_sync(store.record_sync)
    spooling = SpoolingStore(store, tmp_path / "spool")
    ctx = RunContext(site="wilson", store_uri=str(store.root), store=spooling,
                     state=HarvestState(spooling, "wilson"), run_id="20260101T000000Z-abcdef",
                     started_at="2026-01-01T00:00:00Z", executor=ThreadPoolExecutor(1),
                     inline=True, group=group)
    pipeline = StorePipeline(ctx, Stats())

    async def run() -> list[DocumentItem]:
        return await asyncio.gather(*(pipeline.process_document(item(n)) for n in range(60)))

    done = asyncio.run(run())
    ctx.close()
    assert [i.status for i in done] == ["new"] * 60
    assert pipeline.stats["records/new"] == 60
    assert store.markers == 60 and store.early_markers == []
    assert 1 <= store.syncs < 60  # grouped
    assert sorted(int(p.stem) for p in (store.root / "records" / "wilson").glob("*.json")) \
        == list(range(60))
    feed = list(ctx.state.iter_changes(ctx.run_id))
    assert sorted(int(x["record_id"]) for x in feed) == list(range(60))


class ThreadWatchedStore(WatchedStore):
    """Also notes the thread each record file was written on."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.record_threads: set[int] = set()

    def put(self, key: str, data: bytes, **kwargs: Any) -> bool:
        if key.startswith("records/"):
            self.record_threads.add(threading.get_ident())
        return super().put(key, data, **kwargs)


def _run_page(tmp_path: Path, batch_io: bool) -> tuple[ThreadWatchedStore, RunContext, set[int]]:
    store = ThreadWatchedStore(tmp_path / "store")
    group = store.start_group_sync(store.record_sync)
    spooling = SpoolingStore(store, tmp_path / "spool")
    ctx = RunContext(site="wilson", store_uri=str(store.root), store=spooling,
                     state=HarvestState(spooling, "wilson"), run_id="20260101T000000Z-abcdef",
                     started_at="2026-01-01T00:00:00Z", executor=ThreadPoolExecutor(4),
                     inline=True, group=group, batch_io=batch_io)
    pipeline = StorePipeline(ctx, Stats())
    loop_threads: set[int] = set()

    async def run() -> list[DocumentItem]:
        loop_threads.add(threading.get_ident())
        return await asyncio.gather(*(pipeline.process_document(item(n)) for n in range(100)))

    done = asyncio.run(run())
    ctx.close()
    assert [i.status for i in done] == ["new"] * 100
    assert store.markers == 100 and store.early_markers == []
    assert sorted(int(p.stem) for p in (store.root / "records" / "wilson").glob("*.json")) \
        == list(range(100))
    return store, ctx, loop_threads


def test_a_pages_records_are_written_together_off_the_reactor_thread(tmp_path: Path) -> None:
    store, ctx, loop_threads = _run_page(tmp_path, batch_io=True)
    assert store.record_threads and not store.record_threads & loop_threads, \
        (store.record_threads, loop_threads)
    batches, calls = ctx.io_batches
    assert calls == 200  # each record's write and its marker
    assert 2 <= batches <= 20, batches  # the records of the moment together, markers after


def test_without_batched_io_a_local_store_writes_on_the_reactor_thread(tmp_path: Path) -> None:
    store, ctx, loop_threads = _run_page(tmp_path, batch_io=False)
    assert store.record_threads == loop_threads
    assert ctx.io_batches == (0, 0)
