"""DedupPipeline: decides whether a record is new, changed or unchanged.

Identity is the Record ID; the decision is made against the store (records/<site>/<id>.json),
never against one process's memory, so it holds across runs, processes and restarts.
A record whose content hash equals the stored one is unchanged and is not written again
(unless the stored one is withdrawn: the document came back, it is `restored`);
its files are taken over from the stored version (re-downloaded if they were missing).

A document whose URL has no seen marker (`item.unseen`: the listing showed it and no run
stored it under that URL) is taken for new without reading the store: StorePipeline's
create-only write is the check, and when the record turns out to exist it classifies
again against the stored one (as for two workers racing). A backfill of a fresh store so
saves one store read per document; the rare exceptions (a record first stored under
another URL, a run killed between storing a record and its marker) cost a re-download of
the document's files, never a wrong record.
"""

from __future__ import annotations

import json
from typing import Any

from harvester.context import RunContext
from harvester.exceptions import StoreError
from harvester.items import DocumentItem
from harvester.keys import record_key
from pipelines.base import RunPipeline
from pipelines.storage import Store


def load_record(store: Store, site: str, record_id: str) -> dict[str, Any] | None:
    data = store.get(record_key(site, record_id))
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def classify(record: dict[str, Any], stored: dict[str, Any] | None,
             files_wanted: bool = True) -> str:
    """new | changed | unchanged | repaired (unchanged content, but stored files were missing,
    or the stored record has no status yet: written before the record lifecycle existed)
    | restored (the stored record is withdrawn and its page answers again: a new version,
    active again, whatever its content). `files_wanted`: files are downloaded in this run
    (with HARVESTER_DOWNLOAD_FILES off, a file without a key is not missing)."""
    if stored is None:
        return "new"
    if stored.get("status") == "withdrawn":
        return "restored"
    if stored.get("content_sha256") != record["content_sha256"]:
        return "changed"
    if files_wanted and any(f.get("key") is None for f in stored.get("files") or []):
        return "repaired"
    if "status" not in stored:  # stored before records had a status: rewritten with it
        return "repaired"
    return "unchanged"


class DedupPipeline(RunPipeline):
    def __init__(self, ctx: Any, stats: Any, files_wanted: bool = True) -> None:
        super().__init__(ctx, stats)
        self.files_wanted = files_wanted

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        pipeline = cls(RunContext.of(crawler), crawler.stats,
                       crawler.settings.getbool("HARVESTER_DOWNLOAD_FILES"))
        pipeline.crawler = crawler
        return pipeline

    async def process_document(self, item: DocumentItem) -> DocumentItem:
        record = item.record
        if item.unseen:
            item.previous = None
            item.status = "new"
            self.stats.inc_value("dedup/new_unseen")
            return item
        try:
            stored = await self.ctx.io(load_record, self.ctx.store, self.ctx.site,
                                       record["record_id"])
        except StoreError:
            # the store cannot be read now: write create-only (spooled if need be); when the
            # record turns out to exist, the spool's replay keeps the stored one, so the URL
            # is recorded as failed, not seen, and the next run classifies it again
            self.stats.inc_value("dedup/store_unreadable")
            item.unverified = True
            stored = None
        item.previous = stored
        item.status = classify(record, stored, self.files_wanted)
        if item.status == "unchanged" and stored is not None:
            record["files"] = stored.get("files") or record["files"]
            item.encoded = None  # no longer the record's JSON
        self.stats.inc_value(f"dedup/{item.status}")
        return item
