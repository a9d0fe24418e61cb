"""Dedup and Store while the store cannot be read: an edited document is not lost to the
create-only write the spool replays; it is recorded as failed and the next run stores the
edit as a new version."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harvester.context import RunContext
from harvester.exceptions import StoreError
from harvester.items import DocumentItem
from harvester.state import HarvestState
from pipelines.dedup import DedupPipeline
from pipelines.storage.local import LocalStore
from pipelines.storage.spool import SpoolingStore
from pipelines.store import StorePipeline, encode_record

URL = "http://127.0.0.1:1/document/7"


class SwitchableStore(LocalStore):
    down = False

    def put(self, key: str, data: bytes, **kwargs: Any) -> bool:
        if self.down:
            raise StoreError("store switched off")
        return super().put(key, data, **kwargs)

    def get(self, key: str) -> bytes | None:
        if self.down:
            raise StoreError("store switched off")
        return super().get(key)


class Stats(Counter):  # type: ignore[type-arg]
    def inc_value(self, key: str, count: int = 1) -> None:
        self[key] += count


def record(text: str) -> dict[str, Any]:
    return {"record_id": "7", "content_sha256": text * 64, "url": URL, "title": f"v{text}",
            "harvested_at": "2026-01-01T00:00:00Z", "files": []}


def harvest_once(inner: SwitchableStore, spool: Path, run_id: str, rec: dict[str, Any],
                 from_failed: bool = False) -> tuple[DocumentItem, Stats]:
    store = SpoolingStore(inner, spool)
    ctx = RunContext(site="wilson", store_uri=str(inner.root), store=store,
                     state=HarvestState(store, "wilson"), run_id=run_id,
                     started_at="2026-01-01T00:00:00Z", executor=ThreadPoolExecutor(1))
    stats = Stats()
    dedup, writer = DedupPipeline(ctx, stats), StorePipeline(ctx, stats)
    item = DocumentItem(url=URL, listing_url=URL, record=rec, from_failed=from_failed)

    async def run() -> DocumentItem:
        done = await writer.process_document(await dedup.process_document(item))
        await writer.close_spider()
        return done

    done = asyncio.run(run())
    ctx.close()
    return done, stats


def test_an_edit_classified_while_the_store_is_down_is_stored_by_the_next_run(
        tmp_path: Path) -> None:
    inner, spool = SwitchableStore(tmp_path / "store"), tmp_path / "spool"
    harvest_once(inner, spool, "20260101T000000Z-aaaaaa", record("a"))  # stored, seen
    seen = sorted((tmp_path / "store" / "state" / "wilson" / "seen").rglob("*.json"))
    assert len(seen) == 1

    inner.down = True  # a backfill revisits it while the store is down; it was edited
    item, stats = harvest_once(inner, spool, "20260102T000000Z-bbbbbb", record("b"))
    assert item.unverified and stats["dedup/store_unreadable"] == 1
    assert stats["records/unverified"] == 1
    inner.down = False
    assert SpoolingStore(inner, spool).flush()[1] == 0  # the spool replayed into the store
    stored = json.loads(inner.get("records/wilson/7.json") or b"{}")
    assert stored["content_sha256"] == "a" * 64  # create-only: the edit is not in yet...
    marker = json.loads(seen[0].read_text())
    assert marker["content_sha256"] == "a" * 64  # ...and the URL is not taken for done
    failed = list(HarvestState(inner, "wilson").iter_failed())
    assert len(failed) == 1 and "compared next run" in failed[0]["reason"]

    # the next run retries the failed URL: the edit becomes the record, the old a version
    item, stats = harvest_once(inner, spool, "20260103T000000Z-cccccc", record("b"),
                               from_failed=True)
    assert item.status == "changed" and not item.unverified
    assert json.loads(inner.get("records/wilson/7.json") or b"{}")["content_sha256"] == "b" * 64
    assert inner.get(f"versions/wilson/7/{'a' * 64}.json") == encode_record(record("a"))
    assert json.loads(seen[0].read_text())["content_sha256"] == "b" * 64
    assert list(HarvestState(inner, "wilson").iter_failed()) == []
