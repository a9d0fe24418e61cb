"""What a harvest asks of S3, counted from outside by a proxy in front of the server (moto's
and Ceph's RGW): a record and its files per document, the bookkeeping in batches (the
campaign written when it begins and when it completes, its cursor with the seen markers,
the journal's parts, the run's own objects never listed back); an idle incremental run asks
for a handful of objects. A store whose seen markers are one object per
URL (earlier versions) is still read: nothing is fetched again."""

from __future__ import annotations

import json
from pathlib import Path

from crawl_support import harvest
from services.s3_counter import CountingProxy

from harvester.state import HarvestState
from pipelines.storage.s3 import S3Options, S3Store

NO_INDEX = ("-s", "HARVESTER_OAI_INDEX=False")  # the OAI-PMH index counts its own requests


def _total(counts, op: str | None = None, kind: str | None = None) -> int:
    return sum(n for (o, k), n in counts.items()
               if (op is None or o == op) and (kind is None or k == kind))


def test_backfill_asks_a_put_per_record_and_file_and_batches_the_rest(
    tmp_path: Path, sample, s3_server,
) -> None:
    base_url, control = sample
    bucket = s3_server.new_bucket("requests")
    expected = list(control.archive().expected_records())
    docs, files = len(expected), sum(len(r["files"]) for r in expected)
    with CountingProxy(s3_server.endpoint_url, bucket=bucket, prefix="h/") as proxy:
        env = {"AWS_ENDPOINT_URL": proxy.url, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
        run = harvest(f"s3://{bucket}/h", base_url, *NO_INDEX, env=env)
        assert run.code == 0, run.stderr[-2000:]
        backfill = proxy.counts()
        proxy.reset()
        control.reset_stats()
        idle = harvest(f"s3://{bucket}/h", base_url, *NO_INDEX, env=env)
        assert idle.code == 0, idle.stderr[-2000:]
        rerun = proxy.counts()
    assert _total(backfill, "PUT", "records") == docs
    assert _total(backfill, "PUT", "files") == files
    assert _total(backfill, kind="state/seen") <= 1  # one listing: old markers? none
    assert _total(backfill, "PUT", "state/seen-batch") <= 2  # a checkpoint, and the end
    assert _total(backfill, kind="state/seen-batch") <= 3  # no merge: the run's one object
    assert _total(backfill, "PUT", "state/backfill.json") == 2  # begun, complete
    assert _total(backfill, "GET", "state/backfill.json") == 0  # the listing shows none
    assert _total(backfill, "PUT", "state/changes") <= docs / 10  # lines share parts
    assert _total(backfill, "DELETE", "state/changes") == 0  # dropped in one batch
    # listings: one from runs/wilson/ on through state/wilson/ (the run reports for recovery
    # and the coverage check, then every folder of the state: killed runs' journals,
    # failed, seen batches, per-URL markers, missing marks, payload indexes, and which of
    # the campaign and walk objects exist), records/ for the mode (the store held none: the
    # campaign's end has nothing to check for withdrawal, and lists nothing)
    lists = {k: n for (o, k), n in backfill.items() if o == "LIST"}
    assert lists == {"(root)": 1, "records": 1}, lists
    assert _total(backfill, "GET", "runs") == 0  # no earlier report; its own never read
    bookkeeping = _total(backfill) - docs - files
    assert bookkeeping <= 30, sorted(backfill.items())
    # the idle run: its state, its seen index and its report, beside listings
    assert _total(rerun, kind="state/seen") == 0
    assert _total(rerun, kind="records") == 0  # the complete campaign says: incremental
    # the listing, the campaign (complete: incremental), the seen index, the report and its
    # (empty) feed; no walk object exists yet (the listing says so): 5 in all, LIST counted
    assert _total(rerun) <= 5, sorted(rerun.items())
    assert {k: n for (o, k), n in rerun.items() if o == "LIST"} == {"(root)": 1}
    assert _total(rerun, "PUT") == 2  # the report and its (empty) changes feed
    assert sum(control.stats()["by_kind"].values()) <= 2
    objects = [o["Key"] for page in s3_server.client.get_paginator("list_objects_v2")
               .paginate(Bucket=bucket, Prefix="h/state/wilson/") for o in page.get("Contents", [])]
    assert not [k for k in objects if k.startswith("h/state/wilson/seen/")]
    assert [k for k in objects if k.startswith("h/state/wilson/seen-batch/")]


def test_a_store_with_per_url_markers_is_read_without_fetching_again(
    tmp_path: Path, sample, s3_server,
) -> None:
    """Markers written one per URL (as earlier versions did on S3) still say what is done:
    the batched run reads them and fetches nothing of the stored documents."""
    base_url, control = sample
    bucket = s3_server.new_bucket("legacy")
    env = {"AWS_ENDPOINT_URL": s3_server.endpoint_url,
           "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
    run = harvest(f"s3://{bucket}/h", base_url, "-s", "HARVESTER_SEEN_BATCH=off", env=env)
    assert run.code == 0, run.stderr[-2000:]
    store = S3Store(bucket, "h", options=S3Options(endpoint_url=s3_server.endpoint_url))
    try:
        assert len(list(store.list("state/wilson/seen/"))) >= 36
        assert not list(store.list("state/wilson/seen-batch/"))
        before = {k: store.get(k) for k in store.list("records/")}
        control.reset_stats()
        again = harvest(f"s3://{bucket}/h", base_url, "--mode", "incremental", env=env)
        assert again.code == 0, again.stderr[-2000:]
        assert control.stats()["by_kind"].get("document", 0) == 0
        assert {k: store.get(k) for k in store.list("records/")} == before
        state = HarvestState(store, "wilson", batch_seen=True)
        some = json.loads(store.get(next(iter(store.list("state/wilson/seen/")))) or b"{}")
        assert state.get_seen("https://example.org" + some["url"]) == some
    finally:
        store.close()


def test_an_idle_run_after_incremental_runs_asks_five_requests_listing_included(
    tmp_path: Path, sample, s3_server,
) -> None:
    """The steady state: a backfill, then incremental runs that store something. Each of
    them leaves one seen object (the first object it writes holds every marker, the ones
    it read are deleted) and a walk object carrying the campaign with its MD5, so an idle
    run reads the listing, the walk and one seen object, and writes its report and feed."""
    base_url, control = sample
    bucket = s3_server.new_bucket("steady")
    with CountingProxy(s3_server.endpoint_url, bucket=bucket, prefix="h/") as proxy:
        env = {"AWS_ENDPOINT_URL": proxy.url, "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
        assert harvest(f"s3://{bucket}/h", base_url, *NO_INDEX, env=env).code == 0
        for _ in range(2):
            new_ids = control.publish(3)
            proxy.reset()
            run = harvest(f"s3://{bucket}/h", base_url, *NO_INDEX, env=env)
            assert run.code == 0, run.stderr[-2000:]
            news = proxy.counts()
            assert _total(news, "PUT", "records") == len(new_ids)
            assert _total(news, "DELETE-MANY") == 2  # the journal, the seen object it read
        proxy.reset()
        control.reset_stats()
        idle = harvest(f"s3://{bucket}/h", base_url, *NO_INDEX, env=env)
        assert idle.code == 0, idle.stderr[-2000:]
        rerun = proxy.counts()
    assert sorted(rerun.items()) == sorted({
        ("LIST", "(root)"): 1, ("GET", "state/incremental.json"): 1,
        ("GET", "state/seen-batch"): 1, ("PUT", "runs"): 2}.items())
    assert sum(control.stats()["by_kind"].values()) <= 2  # robots.txt, the first page
