"""StorePipeline: writes new and changed records, keeps superseded versions, journals the
change for the run's changes feed and marks the document URL as harvested.

Order of writes (crash-safe, idempotent):
1. changes journal line (in a part object under state/<site>/changes/<run_id>/, shared with
   the lines of records written at the same moment), so a run killed after step 2 still
   reports the change (the feed is at-least-once);
2. for a changed record, the previous version to versions/<site>/<id>/<old sha256>.json
   (create-only), then the record to records/<site>/<id>.json; a new record is written
   create-only, so two workers never both write it (the loser re-checks);
3. the URL's seen marker (state/<site>/seen/...), after which the URL is not fetched again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from harvester.items import DocumentItem
from harvester.keys import record_key, version_key
from pipelines.base import RunPipeline
from pipelines.dedup import classify, load_record

logger = logging.getLogger(__name__)
JSON = "application/json"


def encode_record(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8")


class StorePipeline(RunPipeline):
    async def process_document(self, item: DocumentItem) -> DocumentItem:
        item.status = await self.ctx.io(self.write, item)
        self.stats.inc_value(f"records/{item.status}")
        return item

    def write(self, item: DocumentItem) -> str:
        """Blocking: runs on the store thread pool. Returns the final status."""
        ctx, site, record = self.ctx, self.ctx.site, item.record
        rid = record["record_id"]
        key = record_key(site, rid)
        status = item.status
        line_id = None
        if status in {"new", "changed"}:
            line_id = ctx.state.put_change(ctx.run_id, rid, self.change_line(record, status, key))
        data = encode_record(record)
        if status == "new" and not ctx.store.put(key, data, content_type=JSON, if_absent=True):
            # another worker stored it first: decide again against what is there now
            stored = load_record(ctx.store, site, rid)
            status = classify(record, stored)
            item.previous = stored
            self.stats.inc_value("dedup/race")
            if line_id is not None and status != "new":
                ctx.state.drop_change(ctx.run_id, line_id)  # journaled as new: it was not
                line_id = None
                if status == "changed":
                    line_id = ctx.state.put_change(ctx.run_id, rid,
                                                   self.change_line(record, status, key))
        if status == "changed" and item.previous is not None:
            old_sha = item.previous.get("content_sha256", "")
            ctx.store.put(version_key(site, rid, old_sha), encode_record(item.previous),
                          content_type=JSON, if_absent=True)
            ctx.store.put(key, data, content_type=JSON)
        elif status == "repaired":
            ctx.store.put(key, data, content_type=JSON)
        ctx.state.mark_seen(item.listing_url, rid, record["content_sha256"],
                            getattr(ctx, "campaign_id", None))
        if item.from_failed:
            ctx.state.clear_failed(item.listing_url)
        return status

    def change_line(self, record: dict[str, Any], status: str, key: str) -> dict[str, Any]:
        return {
            "record_id": record["record_id"],
            "change": status,
            "content_sha256": record["content_sha256"],
            "key": key,
            "url": record["url"],
            "title": record["title"],
            "run_id": self.ctx.run_id,
            "harvested_at": record["harvested_at"],
        }
