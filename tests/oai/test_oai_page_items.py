"""A listing page's whole records go through the pipelines as one item (PageItem), yet a
record a pipeline drops or fails on leaves alone, as it did when each record was its own
item: the invalid one quarantined with its reason, the failing one recorded as failed, the
rest of the page stored, and the run report counting each, with page items on and off."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from oai_lookalike import LookalikeServer, Repository
from oai_source_support import harvest, records, reports

CRAWL_TESTS = Path(__file__).resolve().parents[1] / "crawl"


@pytest.mark.parametrize("page_items", ["True", "False"])
def test_a_dropped_and_a_failing_record_leave_the_rest_of_the_page_stored(
        tmp_path: Path, page_items: str) -> None:
    repo = Repository(page_size=10)
    ids = repo.add(12)
    invalid, failing = ids[2], ids[5]  # both on the first page
    repo.items[invalid].title = "x" * 70_000  # over the schema's 65,536 characters
    sys.path.insert(0, str(CRAWL_TESTS))
    from failing_pipeline import with_failing_pipeline

    env = {"FAIL_RECORD_IDS": failing,
           "PYTHONPATH": os.pathsep.join([str(CRAWL_TESTS), os.environ.get("PYTHONPATH", "")])}
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", f"HARVESTER_PAGE_ITEMS={page_items}",
                      "-s", "HARVESTER_OAI_WINDOWS=1", *with_failing_pipeline(), env=env)
    assert "Traceback" not in run.stdout
    stored = records(tmp_path)
    assert sorted(stored) == sorted(set(ids) - {invalid, failing}), run.stderr[-3000:]
    report = reports(tmp_path)[-1]
    assert report["counts"]["new"] == 10
    assert report["counts"]["failed"] == 1
    assert report["counts"]["quarantined"] == 1
    assert report["stats"]["documents/pipeline_errors"] == 1
    assert report["stats"].get("listing/page_items", 0) == (2 if page_items == "True" else 0)
    failed = [json.loads(p.read_text()) for p in (tmp_path / "state").rglob("failed/*.json")]
    assert len(failed) == 1 and f"injected failure for {failing}" in failed[0]["reason"]
    notes = [json.loads(p.read_text()) for p in (tmp_path / "quarantine").rglob("*.json")]
    assert any("title" in json.dumps(n) for n in notes), notes
    feed = [json.loads(line) for p in (tmp_path / "runs").rglob("*.changes.jsonl")
            for line in p.read_text().splitlines()]
    assert sorted(line["record_id"] for line in feed) == sorted(stored)
