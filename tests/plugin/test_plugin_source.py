"""A source written outside the harvester (tests/plugin/site-packages: a module and its
dist-info with a `harvester.sources` entry point), with its own look-alike archive, listing
shape (an opaque `after` token, no page numbers, no count) and record fields, harvested
through the whole engine: backfill, incremental, dedup, store, WARC, withdrawals, exports
and --redis workers. No line of the harvester names it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from townminutes_site import Minute, TownMinutesSite, serve

from harvester.keys import record_key

PLUGIN = Path(__file__).parent / "site-packages"
HARVESTER = [sys.executable, "-m", "harvester.cli"]
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "LOG_LEVEL=INFO"]


def env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(PLUGIN), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path)


def cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HARVESTER, *args], capture_output=True, text=True, env=env(),
                          timeout=timeout)


def harvest(store: Path, base: str, *args: str) -> subprocess.CompletedProcess[str]:
    run = cli("harvest", "townminutes", "--store", str(store), "--base-url", base, *FAST,
              "-s", f"HARVESTER_SPOOL_DIR={store.parent / 'spool'}", *args)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def records(store: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in (store / "records" / "townminutes").glob("*.json"):
        record = json.loads(path.read_text("utf-8"))
        out[record["record_id"]] = record
    return out


def last_report(store: Path) -> dict[str, Any]:
    reports = [json.loads(p.read_text()) for p in (store / "runs" / "townminutes").glob("*.json")]
    return sorted(reports, key=lambda r: r["run_id"])[-1]


def test_the_plugin_is_registered_by_its_entry_point_only() -> None:
    code = ("from harvester.registry import source_names, spider_class; "
            "print(source_names()); print(spider_class('townminutes').name)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env(), check=True).stdout.split("\n")
    assert "townminutes" in found[0] and found[1] == "townminutes"
    alone = subprocess.run([sys.executable, "-c", code.split(";")[0] + "; print(source_names())"],
                           capture_output=True, text=True, check=True).stdout
    assert "townminutes" not in alone  # without the plugin's folder the harvester knows none
    engine = Path(__file__).parents[2]
    named = [p for d in ("harvester", "pipelines") for p in (engine / d).rglob("*.py")
             if "townminutes" in p.read_text("utf-8").lower()]
    assert named == []


def test_backfill_incremental_dedup_warc_and_exports(tmp_path: Path) -> None:
    site = TownMinutesSite.of(10)
    store = tmp_path / "store"
    with serve(site) as base:
        harvest(store, base, "--mode", "backfill")
        got = records(store)
        assert sorted(got) == sorted(m.ref for m in site.minutes)
        one = got[Minute(7).ref]
        assert one["record_id"] == "TM:1990/08:007" and one["title"] == "Council meeting no. 7"
        assert one["date"] == "1990-08-08" and one["meeting_body"] == "Town Council"
        assert one["agenda_items"] == [f"Item {k} of meeting 7" for k in (1, 2, 3)]
        assert one["texts"][0]["text"] == "The council met at seven.\nMotion 7 carried."
        assert "Skip to content" not in json.dumps(one)
        # the id's colons and slashes live in a reversible key of the record's own place
        assert (store / record_key("townminutes", one["record_id"])).is_file()
        scan = one["files"][0]
        assert (store / scan["key"]).read_bytes() == Minute(7).pdf()
        assert site.hits["document"] == 10 and site.hits["file"] == 10
        assert site.hits["listing"] == 3  # 4 + 4 + 2, chained by the pages' tokens

        site.hits.clear()
        harvest(store, base)  # auto: incremental, nothing new
        assert site.hits["document"] == 0 and site.hits["listing"] == 1
        assert last_report(store)["counts"]["new"] == 0

        new = site.add(5)
        site.hits.clear()
        harvest(store, base, "--mode", "incremental")
        assert site.hits["document"] == 5  # only the new minutes, over two listing pages
        report = last_report(store)
        assert report["mode"] == "incremental" and report["counts"]["new"] == 5
        assert sorted(records(store)) == sorted(m.ref for m in site.minutes)
        feed = (store / "runs" / "townminutes" / f"{report['run_id']}.changes.jsonl")
        lines = [json.loads(x) for x in feed.read_text("utf-8").splitlines()]
        assert sorted(x["record_id"] for x in lines) == sorted(m.ref for m in new)
        assert {x["change"] for x in lines} == {"new"}

    captured = set()
    from warcio.archiveiterator import ArchiveIterator

    for warc in (store / "raw" / "townminutes").rglob("*.warc.gz"):
        with warc.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response":
                    captured.add(rec.rec_headers.get_header("WARC-Target-URI").split("/", 3)[3])
    assert {f"m/{m.slug}" for m in site.minutes} <= captured
    assert {f"scans/{m.slug}.pdf" for m in site.minutes} <= captured

    out = tmp_path / "export.jsonl"
    run = cli("export", "--store", str(store), "--site", "townminutes", "--format", "jsonl",
              "--out", str(out))
    assert run.returncode == 0, run.stderr
    exported = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert sorted(r["record_id"] for r in exported) == sorted(m.ref for m in site.minutes)
    assert all(r["meeting_body"] == "Town Council" for r in exported)
    dc = tmp_path / "dc.xml"
    run = cli("export", "--store", str(store), "--site", "townminutes", "--format", "dc",
              "--out", str(dc))
    assert run.returncode == 0, run.stderr
    text = dc.read_text("utf-8") if dc.is_file() else "".join(
        p.read_text("utf-8") for p in dc.rglob("*.xml"))
    assert "Town Minutes Archive" in text and "TM:1990/08:007" in text


def test_a_minute_taken_down_becomes_a_withdrawn_record(tmp_path: Path) -> None:
    site = TownMinutesSite.of(12)
    store = tmp_path / "store"
    with serve(site) as base:
        harvest(store, base, "--mode", "backfill")
        site.remove(Minute(5).slug)
        harvest(store, base, "--mode", "backfill")  # the first 404 marks it missing
        harvest(store, base, "--mode", "backfill")  # a second campaign confirms it
    got = records(store)
    assert len(got) == 12  # nothing lost: the record stays, withdrawn, with its content
    gone = got[Minute(5).ref]
    assert gone["status"] == "withdrawn" and gone["withdrawn_at"]
    assert gone["title"] == "Council meeting no. 5"
    assert sum(r["status"] == "active" for r in got.values()) == 11


def _workers_in_crawl(client: Any) -> int:
    crawl = client.get("harvester:townminutes:crawl")
    if not crawl:
        return 0
    key = f"harvester:townminutes:{crawl.decode()}:workers"
    kind = client.type(key).decode()
    return {"set": client.scard, "hash": client.hlen, "zset": client.zcard}.get(
        kind, lambda k: 0)(key)


def _wait(what: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_redis_workers_share_the_crawl(tmp_path: Path, redis_url: str) -> None:
    import redis

    site = TownMinutesSite.of(14)
    alone, shared = tmp_path / "alone", tmp_path / "shared"
    client = redis.Redis.from_url(redis_url)
    with serve(site) as base:
        harvest(alone, base, "--mode", "backfill")
        site.hits.clear()
        # two workers of one crawl, both joined before the first listing page is answered
        site.hold = threading.Event()
        cmd = [*HARVESTER, "harvest", "townminutes", "--store", str(shared), "--base-url", base,
               *FAST, "-s", f"HARVESTER_SPOOL_DIR={tmp_path / 'spool'}", "--mode", "backfill",
               "--redis", redis_url]
        first = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        _wait(lambda: site.waiting >= 1)
        second = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        _wait(lambda: _workers_in_crawl(client) >= 2)
        site.hold.set()
        for proc in (first, second):
            _, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err[-3000:]
        assert site.hits["document"] == 14  # each document fetched once by the two workers
    a, b = records(alone), records(shared)
    assert sorted(a) == sorted(b) == sorted(m.ref for m in site.minutes)
    assert {k: r["content_sha256"] for k, r in a.items()} == \
        {k: r["content_sha256"] for k, r in b.items()}
    reports = [json.loads(p.read_text()) for p in (shared / "runs" / "townminutes").glob("*.json")]
    assert len(reports) == 2 and sum(r["counts"]["new"] for r in reports) == 14
    assert len({r["campaign"] for r in reports}) == 1  # one campaign, shared

def test_check_and_extract_know_the_plugin(tmp_path: Path) -> None:
    site = TownMinutesSite.of(6)
    with serve(site) as base:
        run = cli("check", "townminutes", "--base-url", base, "--json", "-s", "DOWNLOAD_DELAY=0")
        assert run.returncode == 0, run.stderr
        result = json.loads(run.stdout)
        assert result["listing"]["links_found"] == 4
        assert result["listing"]["next_page"] == f"{base}/minutes?after=Mw=="
        assert result["document"]["record"]["agenda_items"] == ["Item 1 of meeting 6",
                                                                "Item 2 of meeting 6"]
    page = tmp_path / "m.html"
    page.write_bytes(Minute(9).html())
    run = cli("extract", "--site", "townminutes", "--url", "https://minutes.example.org/m/x",
              str(page))
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["record_id"] == Minute(9).ref and record["site"] == "townminutes"
