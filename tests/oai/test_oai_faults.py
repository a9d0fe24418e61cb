"""The faults real repositories have, survived through the real CLI: busy answers with
Retry-After (seconds and HTTP dates), truncated responses, characters XML 1.0 forbids, a
wrong encoding, a broken record (quarantined, the rest of its page stored), an expired
token (costs at most the rest of its window), a looping token and a 403 (the walk stops
with a clear reason, exit 6)."""

from __future__ import annotations

import json
from pathlib import Path

from oai_lookalike import LookalikeServer, Repository, http_date_in
from oai_source_support import harvest, records, reports


def test_busy_answers_are_waited_out(tmp_path: Path, repo: Repository,
                                     server: LookalikeServer) -> None:
    repo.add(25)
    repo.fail_next(1, 503, http_date_in(1), verb="Identify")  # an HTTP date (Sickle crashes)
    repo.fail_next(1, 429, "1")
    repo.fail_next(1, 503, None)
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=2")
    assert run.code == 0, run.stderr[-3000:]
    assert len(records(tmp_path)) == 25
    stats = reports(tmp_path)[-1]["stats"]
    assert stats["retry/retry_after"] == 2
    assert reports(tmp_path)[-1]["requests"]["retries"] == 3


def test_a_truncated_response_is_fetched_again(tmp_path: Path, repo: Repository,
                                               server: LookalikeServer) -> None:
    ids = repo.add(25)
    repo.truncate_next()
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert len(repo.list_requests) == 3 + 1  # 3 pages, the cut one twice


def test_a_response_cut_off_before_its_root_is_read_is_fetched_again(
        tmp_path: Path, repo: Repository, server: LookalikeServer) -> None:
    """Cut inside the XML declaration, inside the root's name, inside its namespace
    declarations: none of it is an answer to read, so the page is fetched again (before,
    each stopped the run with "not an OAI-PMH response", exit 6)."""
    ids = repo.add(25)
    for keep in (20, 45, 70):  # 3 cuts: a 4th of the same page would stop the walk
        repo.truncate_next(keep)
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1",
                  "-s", "HARVESTER_LISTING_LOOKAHEAD=False")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert len(repo.list_requests) == 3 + 3  # 3 pages, the cut one 3 times more


def test_an_empty_response_is_fetched_again(tmp_path: Path, repo: Repository,
                                           server: LookalikeServer) -> None:
    ids = repo.add(25)
    repo.fail_next(1, 200, body=b"")  # a page cut off before its first byte
    repo.fail_next(1, 200, body=b'<?xml version="1.0" encoding="UTF-8"?>\n', verb="Identify")
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert [r["verb"] for r in repo.requests][:2] == ["Identify", "Identify"]
    assert len(repo.list_requests) == 3 + 1  # 3 pages, the empty one twice


def test_a_page_larger_than_an_html_page_may_be_is_read(tmp_path: Path) -> None:
    """A ListRecords page of ~12 MB (rich metadata): over the 8 MB an HTML page may be, read
    whole all the same."""
    repo = Repository(page_size=6)
    ids = repo.add(8, description="long " * 400_000)  # ~2 MB a record
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1",
                      "-s", "HARVESTER_EXTRACT_WORKERS=1")  # the page goes to the worker
    assert run.code == 0, run.stderr[-3000:]
    got = records(tmp_path)
    assert sorted(got) == sorted(ids)
    assert len(got[ids[0]]["summary"]) > 1_900_000


def test_forbidden_characters_and_a_wrong_encoding_are_survived(tmp_path: Path) -> None:
    repo = Repository(page_size=10)
    repo.encoding = "latin-1"  # declared UTF-8
    ids = repo.add(12, description="Bad\x01 chars\x0b here, Zürich",
                   extra_xml="<dc:coverage>Ber&#x0B;lin&#1;</dc:coverage>")
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path))
    assert run.code == 0, run.stderr[-3000:]
    got = records(tmp_path)
    assert sorted(got) == sorted(ids)
    assert got[ids[0]]["summary"] == "Bad chars here, Zürich"
    assert got[ids[0]]["places"] == ["Berlin"]


def test_a_broken_record_is_quarantined_and_the_rest_of_its_page_stored(
        tmp_path: Path, repo: Repository, server: LookalikeServer) -> None:
    good = repo.add(4)
    [bad] = repo.add(1, extra_xml="<dc:subject>unclosed <b>tag</dc:subject>")
    good += repo.add(5)
    run = harvest(server.url, str(tmp_path))
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(good)
    notes = [json.loads(p.read_text()) for p in (tmp_path / "quarantine" / "look").rglob("*.json")]
    assert [n["url"] for n in notes] == [bad]
    raw = [p.read_bytes() for p in (tmp_path / "quarantine" / "look").rglob("*")
           if p.suffix != ".json" and p.is_file()]
    assert any(b"unclosed <b>tag" in body for body in raw)
    assert reports(tmp_path)[-1]["counts"]["quarantined"] == 1


def test_a_broken_record_listed_twice_is_one_quarantined_document(
        tmp_path: Path, repo: Repository, server: LookalikeServer) -> None:
    """Pages that overlap (each lists the previous page's last records again): a broken
    record on two pages is one quarantined document in the run's counts (it was two)."""
    good = repo.add(repo.page_size - 1)
    [bad] = repo.add(1, extra_xml="<dc:subject>unclosed <b>tag</dc:subject>")
    good += repo.add(12)
    repo.page_overlap = 2
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(good)
    report = reports(tmp_path)[-1]
    assert report["stats"]["quarantine/listing_record"] == 2  # listed, and quarantined, twice
    assert report["counts"]["quarantined"] == 1
    assert report["counts"]["new"] == len(good)
    notes = [json.loads(p.read_text()) for p in (tmp_path / "quarantine" / "look").rglob("*.json")]
    assert [n["url"] for n in notes] == [bad]


def test_an_expired_token_costs_at_most_the_rest_of_its_window(tmp_path: Path) -> None:
    repo = Repository(page_size=5)
    ids = repo.add(40)
    with LookalikeServer(repo) as server:
        clean = tmp_path / "clean"
        assert harvest(server.url, str(clean), "-s", "HARVESTER_OAI_WINDOWS=2").code == 0
        baseline = len(repo.list_requests)
        repo.requests.clear()
        repo.expire_after = 2  # the third list request finds every token refused
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=2")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    lists = repo.list_requests
    restart = lists[3]
    assert "resumptionToken" in lists[2] and "resumptionToken" not in restart
    # restarted from the last datestamp seen (the 10th record's), not the window's start
    assert restart["from"] == repo.fmt(repo.items[ids[9]].datestamp)
    assert "from" not in lists[0]  # the window's start: a backfill's first is open
    assert len(lists) <= baseline + 1 + 4  # the refused request, at most the window's pages


def test_a_token_refused_after_the_whole_list_came_ends_its_window(tmp_path: Path) -> None:
    """The last page carries a token the repository then refuses: its completeListSize was
    reached, so the window is complete (not restarted over and over, not a stop)."""
    repo = Repository(page_size=5)
    ids = repo.add(23)
    repo.refuse_last_token = True
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=2")
        lists = repo.list_requests
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    refused = [r["resumptionToken"] for r in lists
               if r.get("resumptionToken", "").startswith("after-the-end")]
    assert 1 <= len(refused) <= 2 and len(set(refused)) == len(refused)  # once a window
    campaign = json.loads((tmp_path / "state" / "look" / "backfill.json").read_text())
    assert campaign["status"] == "complete"


def test_a_looping_token_stops_the_walk_with_a_reason(tmp_path: Path, repo: Repository,
                                                      server: LookalikeServer) -> None:
    repo.add(25)
    repo.loop_token = True
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1")
    assert run.code == 6, run.stderr[-3000:]
    assert "token loop" in run.last_line()
    assert len(repo.list_requests) <= 3
    assert len(records(tmp_path)) == 10  # the first page is stored


def test_a_list_that_comes_round_again_stops_the_walk_with_a_reason(tmp_path: Path) -> None:
    """Tokens that come back after more pages than the source's loop check remembers: the
    repeated request is dropped as one fetched before, and the walk, left with no step to
    fetch, stops with a reason (exit 6) instead of finishing as if it reached the end."""
    repo = Repository(page_size=5)
    repo.add(120)
    repo.token_cycle = 20  # 20 pages, then page 1 again
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1")
    assert run.code == 6, run.stderr[-3000:]
    assert "stopped before its end" in run.stderr
    assert len(records(tmp_path)) == 100  # what the 20 pages held, each once
    assert reports(tmp_path)[-1]["status"] != "finished"
    campaign = json.loads((tmp_path / "state" / "look" / "backfill.json").read_text())
    assert campaign["status"] != "complete"


def test_forbidden_stops_the_source_with_a_clear_message(tmp_path: Path, repo: Repository,
                                                         server: LookalikeServer) -> None:
    repo.add(5)
    repo.forbidden = True
    run = harvest(server.url, str(tmp_path))
    assert run.code == 6, run.stderr[-3000:]
    assert "HTTP 403" in run.last_line()
    assert len(repo.requests) <= 2  # Identify once (robots.txt aside): a 403 is not retried


def test_a_repository_that_refuses_the_seconds_it_claims_is_harvested_in_days(
        tmp_path: Path) -> None:
    repo = Repository(granularity="day", page_size=10)
    repo.claimed_granularity = "seconds"
    ids = repo.add(30, spread=4 * 3600)
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=3")
        assert run.code == 0, run.stderr[-3000:]
        assert sorted(records(tmp_path)) == sorted(ids)
        refused = [r for r in repo.list_requests
                   if "T" in r.get("from", "") + r.get("until", "")]
        assert len(refused) == 1  # once refused, the walk goes on in days
        repo.tick(86400)
        repo.requests.clear()
        idle = harvest(server.url, str(tmp_path))  # incremental: refused once, then days
        assert idle.code == 0, idle.stderr[-3000:]
        assert [len(r.get("from", "")) for r in repo.requests] == [20, 10]


def test_a_record_the_schema_refuses_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    """Listed records are finalized by the worker that parses their page
    (harvester/prefinal.py); one the schema refuses still reaches ValidatePipeline's check,
    is quarantined with the field named, and the rest of its page is stored."""
    repo = Repository(page_size=10)
    good = repo.add(6)
    [long] = repo.add(1)
    repo.items[long].title = "x" * 70000  # a title may be 65,536 characters at most
    good += repo.add(3)
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_EXTRACT_WORKERS=1")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(good)
    notes = [json.loads(p.read_text()) for p in (tmp_path / "quarantine" / "look").rglob("*.json")]
    assert len(notes) == 1 and notes[0]["reason"].startswith("title")
    # with the record's XML as it came (written out by the worker for this record only)
    raw = [p.read_bytes() for p in (tmp_path / "quarantine" / "look").rglob("*")
           if p.suffix != ".json" and p.is_file()]
    assert len(raw) == 1 and b"x" * 70000 in raw[0] and long.encode() in raw[0]
    report = reports(tmp_path)[-1]
    assert report["counts"]["quarantined"] == 1
    assert report["stats"]["validation/valid"] == 9
