"""A pipeline for crawl tests: raises (not DropItem) on the records named in
$FAIL_RECORD_IDS, as a store or bug would. Put on the harvester's pipelines by
`with_failing_pipeline()`; the crawl process imports it from PYTHONPATH."""

from __future__ import annotations

import json
import os
from typing import Any

from harvester.settings import ITEM_PIPELINES


class FailingPipeline:
    def process_item(self, item: Any) -> Any:
        record = getattr(item, "record", None) or {}
        if record.get("record_id") in os.environ.get("FAIL_RECORD_IDS", "").split(","):
            raise RuntimeError(f"injected failure for {record['record_id']}")
        return item


def with_failing_pipeline() -> list[str]:
    """`-s ITEM_PIPELINES=...` arguments: the harvester's pipelines, and this one before
    the store."""
    pipelines = {**ITEM_PIPELINES, f"{__name__}.FailingPipeline": 350}
    return ["-s", f"ITEM_PIPELINES={json.dumps(pipelines)}"]
