"""Real harvests of the look-alike repository through `harvester harvest oai`: backfill,
incremental (only the changes; an idle run is one list request), deleted records, dedup."""

from __future__ import annotations

from pathlib import Path

import pytest
from oai_lookalike import LookalikeServer, Repository
from oai_source_support import cli, feed, harvest, records, reports, snapshot


def test_backfill_stores_every_record_mapped_with_its_raw_metadata_and_files(
        tmp_path: Path, repo: Repository, server: LookalikeServer) -> None:
    ids = repo.add(35, file=True, sets=["coll:a"])
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=4")
    assert run.code == 0, run.stderr[-3000:]
    got = records(tmp_path)
    assert sorted(got) == sorted(ids)
    one = got[ids[0]]
    assert one["site"] == "look" and one["title"] == "Record 1"
    assert one["url"].endswith("/item/1") and one["date"] == "1950-07-01"
    assert one["authors"] == ["Archivist, A."] and one["subjects"] == ["History"]
    assert one["languages"] == ["en"] and one["rights"] == "Public domain"
    assert one["type"] == "Text" and one["summary"] == "A document."
    assert one["oai_sets"] == ["coll:a"] and one["oai_datestamp"] == "2024-03-01T12:00:00Z"
    assert one["oai_metadata"]["oai_dc"].startswith("<oai_dc:dc")
    assert "<dc:title>Record 1</dc:title>" in one["oai_metadata"]["oai_dc"]
    [pdf] = one["files"]
    assert pdf["url"].endswith("/files/1.pdf") and pdf["size"] and pdf["key"]
    assert (tmp_path / pdf["key"]).read_bytes().startswith(b"%PDF")
    # Identify first; windows never finer than the granularity; every window chained
    assert repo.requests[0] == {"verb": "Identify"}
    assert all("T" in r["from"] for r in repo.list_requests if "from" in r)
    report = reports(tmp_path)[-1]
    assert report["counts"]["new"] == 35 and report["mode"] == "backfill"
    assert len(feed(tmp_path, report["run_id"])) == 35
    # the list responses are captured (WARC), as the files are
    import gzip

    warc = b"".join(gzip.decompress(p.read_bytes())
                    for p in (tmp_path / "raw" / "look").glob("*.warc.gz"))
    assert warc.count(b"WARC-Type: response") >= len(repo.list_requests) + 35
    assert b"verb=ListRecords" in warc and b"<dc:title>Record 1</dc:title>" in warc
    # a later reader of the store knows the source's own fields (its description is there)
    verify = cli("verify", "--store", str(tmp_path))
    assert verify.code == 0, verify.stdout[-2000:]
    assert "verified 35 records, 35 files" in verify.stdout


def test_day_granularity_windows_are_days(tmp_path: Path) -> None:
    repo = Repository(granularity="day", page_size=7)
    repo.add(20, spread=3 * 3600)  # 20 records over 2.5 days
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=3")
        assert run.code == 0, run.stderr[-3000:]
    assert len(records(tmp_path)) == 20
    for request in repo.list_requests:
        for name in ("from", "until"):
            if name in request:
                assert len(request[name]) == 10, request  # YYYY-MM-DD, never finer


def test_incremental_picks_up_new_edited_and_deleted_records_only(
        tmp_path: Path, repo: Repository, server: LookalikeServer) -> None:
    ids = repo.add(30)
    assert harvest(server.url, str(tmp_path)).code == 0
    repo.tick(3600)
    # idle: one list request (no Identify), noRecordsMatch is success, nothing written
    before = snapshot(tmp_path, "records")
    repo.requests.clear()
    idle = harvest(server.url, str(tmp_path))
    assert idle.code == 0, idle.stderr[-3000:]
    assert [r["verb"] for r in repo.requests] == ["ListRecords"]
    assert snapshot(tmp_path, "records") == before
    # 4 new, 2 edited, 3 deleted
    new = repo.add(4)
    repo.edit(ids[3], "Record 4, revised")
    repo.edit(ids[7], "Record 8, revised")
    for rid in ids[10:13]:
        repo.delete(rid)
    repo.requests.clear()
    run = harvest(server.url, str(tmp_path))
    assert run.code == 0, run.stderr[-3000:]
    assert [r["verb"] for r in repo.requests] == ["ListRecords"]  # 9 changes: one page
    got = records(tmp_path)
    assert sorted(got) == sorted(ids + new)
    assert got[ids[3]]["title"] == "Record 4, revised"
    assert {rid for rid, r in got.items() if r["status"] == "withdrawn"} == set(ids[10:13])
    assert got[ids[10]]["title"] == "Record 11"  # content kept
    lines = feed(tmp_path, reports(tmp_path)[-1]["run_id"])
    changes = sorted((line["change"], line["record_id"]) for line in lines)
    assert changes == sorted([("new", r) for r in new] + [("changed", ids[3]), ("changed", ids[7])]
                             + [("withdrawn", r) for r in ids[10:13]])
    untouched = [rid for rid in ids if rid not in (ids[3], ids[7], *ids[10:13])]
    after = snapshot(tmp_path, "records")
    for rid in untouched:
        key = next(k for k in before if k.endswith(rid.rsplit(":", 1)[1].replace("/", "!2F")
                                                   + ".json"))
        assert after[key] == before[key], rid  # no other record rewritten


def test_a_second_backfill_rewrites_nothing(tmp_path: Path, repo: Repository,
                                            server: LookalikeServer) -> None:
    repo.add(25)
    assert harvest(server.url, str(tmp_path), "--mode", "backfill").code == 0
    before = snapshot(tmp_path, "records")
    again = harvest(server.url, str(tmp_path), "--mode", "backfill")
    assert again.code == 0, again.stderr[-3000:]
    assert snapshot(tmp_path, "records") == before
    assert feed(tmp_path, reports(tmp_path)[-1]["run_id"]) == []


def test_one_set_holds_exactly_that_set(tmp_path: Path, repo: Repository,
                                        server: LookalikeServer) -> None:
    a = repo.add(12, sets=["coll:a"])
    b = repo.add(9, sets=["coll:b"])
    repo.add(5, sets=["other"])
    run = harvest(server.url, str(tmp_path), "--set", "coll:b")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(b)
    # hierarchical: coll holds coll:a and coll:b; two sets asked: both, once each
    both = tmp_path / "both"
    run = harvest(server.url, str(both), "--set", "coll", "--set", "other")
    assert run.code == 0, run.stderr[-3000:]
    assert len(records(both)) == 26 and set(a + b) <= set(records(both))


def test_records_older_than_the_earliest_datestamp_identify_gives_are_harvested(
        tmp_path: Path) -> None:
    """A repository that misreports earliestDatestamp (later than its oldest records, as
    after a migration): a backfill's first window of each set is asked for without `from`,
    so the older records come too; the windows after it keep their bounds."""
    repo = Repository(page_size=5)
    old = repo.add(6, sets=["a"]) + repo.add(6, sets=["b"])
    repo.tick(10 * 86400)
    repo.earliest = repo.now  # Identify says: nothing before this
    new = repo.add(8, sets=["a"]) + repo.add(8, sets=["b"])
    repo.tick(5 * 86400)
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "--set", "a", "--set", "b",
                      "-s", "HARVESTER_OAI_WINDOWS=4")
        firsts = repo.window_requests
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(old + new)
    for spec in ("a", "b"):  # each set's first window is open at its start, the rest bounded
        windows = [r for r in firsts if r.get("set") == spec]
        assert "from" not in windows[0] and "until" in windows[0], windows
        assert all("from" in w for w in windows[1:]) and len(windows) >= 3, windows
        assert windows[1]["from"] > repo.fmt(repo.earliest)


@pytest.mark.parametrize("bug", ["midnight", "exclusive"])
def test_a_day_repository_that_misreads_until_loses_no_record_at_a_window_boundary(
        tmp_path: Path, bug: str) -> None:
    """`until` is inclusive in OAI-PMH; a server that reads it as exclusive, or a day as its
    midnight, leaves out a window's last day. Each window shares its first day with the one
    before, so every record comes, and is stored once."""
    granularity, spread = "day", 5 * 3600
    repo = Repository(granularity=granularity, page_size=7)
    repo.until_bug = bug
    ids = repo.add(60, spread=spread)  # several records in every granule of the span
    with LookalikeServer(repo) as server:
        # windows of ~10 records: neither sparse (5 or fewer) nor crowded (more than 20)
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=6",
                      "-s", "HARVESTER_OAI_WINDOW_RECORDS=20")
        bounded = [r for r in repo.list_requests if "until" in r]
    assert run.code == 0, run.stderr[-3000:]
    assert len(bounded) >= 3  # the span was cut into windows
    got = records(tmp_path)
    assert sorted(got) == sorted(ids)
    report = reports(tmp_path)[-1]
    assert report["counts"]["new"] == len(ids)
    assert len(feed(tmp_path, report["run_id"])) == len(ids)  # each record once


@pytest.mark.parametrize("suffix", ["?repository=main", "?repository=main&"])
def test_an_endpoint_with_a_query_of_its_own_keeps_it_on_every_request(
        tmp_path: Path, suffix: str) -> None:
    """One script serving several repositories (`oai.php?repository=main`): the protocol's
    arguments go after the endpoint's own, never after a second `?`."""
    repo = Repository(page_size=5, deleted_record="no")
    repo.mount = {"repository": "main"}
    ids = repo.add(12)
    with LookalikeServer(repo) as server:
        endpoint = server.url + suffix
        run = harvest(endpoint, str(tmp_path), "--mode", "backfill")
        assert run.code == 0, run.stderr[-3000:]
        assert sorted(records(tmp_path)) == sorted(ids)
        repo.items.pop(ids[0])  # checked with GetRecord at the next backfill's end
        repo.tick(60)
        again = harvest(endpoint, str(tmp_path), "--mode", "backfill")
        assert again.code == 0, again.stderr[-3000:]
        assert [r["verb"] for r in repo.requests if r["verb"] == "GetRecord"] == ["GetRecord"]
        check = cli("check", "oai", "--endpoint", endpoint, "-s", "DOWNLOAD_DELAY=0")
        assert check.code == 0, check.stdout + check.stderr[-2000:]
    assert records(tmp_path)[ids[0]]["status"] == "withdrawn"


@pytest.mark.parametrize("granularity", ["day", "seconds"])
def test_a_sparse_repository_is_read_in_a_few_windows(tmp_path: Path, granularity: str) -> None:
    """Windows start at 1/16 of the span; one holding a quarter of window_records or fewer
    doubles the next (as an empty one does), so a small repository costs a few windows'
    part pages, not sixteen; a crowded repository keeps its windows (and halves them)."""
    repo = Repository(granularity=granularity, page_size=10)
    ids = repo.add(320, spread=3 * 3600)  # 40 days, 20 records a sixteenth
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path / "sparse"))
        sparse = list(repo.window_requests)
        repo.list_requests.clear()
        dense = harvest(server.url, str(tmp_path / "dense"),
                        "-s", "HARVESTER_OAI_WINDOW_RECORDS=40")
        crowded = list(repo.window_requests)
    assert run.code == 0 and dense.code == 0, run.stderr[-3000:] + dense.stderr[-3000:]
    assert sorted(records(tmp_path / "sparse")) == sorted(ids)
    assert sorted(records(tmp_path / "dense")) == sorted(ids)
    assert len(sparse) <= 6, sparse  # spans 1, 2, 4, 8... sixteenths: five windows
    assert len(crowded) >= 14, crowded  # ~20 records a window: more than a quarter of 40
    for report in (reports(tmp_path / "sparse")[-1], reports(tmp_path / "dense")[-1]):
        assert report["counts"]["new"] == len(ids)


def test_a_repository_that_ignores_from_and_until_is_harvested_whole(tmp_path: Path) -> None:
    """A server that ignores `from`/`until` shows every window the same pages. A record
    datestamped after its window's `until` gives it away: the set is read again as one
    list, and every later set too; a page that repeats the one before it is not the end of
    the walk for a source whose windows are separate lists (as a page number's repeat is):
    each set is walked to its end, every record stored once."""
    repo = Repository(page_size=10)  # each set's list in one page: every window the same
    repo.ignore_window = True
    in_a = repo.add(7, sets=["a"])
    in_b = repo.add(6, sets=["b"])
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "--set", "a", "--set", "b",
                      "-s", "HARVESTER_OAI_WINDOWS=3")
        windows = repo.window_requests
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(in_a + in_b)
    b_lists = [w for w in windows if w.get("set") == "b"]
    assert b_lists and {"from", "until"}.isdisjoint(b_lists[-1]), windows  # b: one list
    report = reports(tmp_path)[-1]
    assert report["counts"]["new"] == len(in_a + in_b)


def test_new_records_with_less_metadata_are_reported_not_an_exit_status(tmp_path: Path) -> None:
    """New records catalogued with less (no description, no subject) make those fields'
    coverage fall: for an OAI-PMH source that is the repository's metadata, not a misread
    page, so the incremental run reports it (coverage_alerts) and exits 0; asked for
    (HARVESTER_COVERAGE_EXIT), the fall is exit 4 as for an HTML source."""
    repo = Repository(page_size=20)
    repo.add(40)
    with LookalikeServer(repo) as server:
        first = harvest(server.url, str(tmp_path))
        assert first.code == 0, first.stderr[-3000:]
        repo.tick(60)
        sparse = repo.add(30, description="", subject="")
        run = harvest(server.url, str(tmp_path), "--mode", "incremental")
        assert run.code == 0, run.stderr[-3000:]
        report = reports(tmp_path)[-1]
        assert report["counts"]["new"] == 30
        assert {a["field"] for a in report["coverage_alerts"]} >= {"summary", "subjects"}
        assert all(records(tmp_path)[i]["summary"] is None for i in sparse)
        repo.tick(60)
        repo.add(30, description="", subject="")
        strict = harvest(server.url, str(tmp_path), "--mode", "incremental",
                         "-s", "HARVESTER_COVERAGE_EXIT=True")
    assert strict.code == 4, strict.stderr[-3000:]
    assert reports(tmp_path)[-1]["counts"]["new"] == 30  # stored all the same
