"""The next page of a token chain asked for while a page is read (harvester/lookahead.py),
through the real CLI against the look-alike: the repository is asked exactly what it is
asked without the lookahead, every record is stored once, and the chain's faults (a busy
answer, a 403, a looping token) end as they do without it. Both with the extraction worker
(the guess's answer waits for its page's parse) and inline (its page is read first)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from oai_lookalike import LookalikeServer, Repository
from oai_source_support import harvest, records, reports

WORKER = ["-s", "HARVESTER_EXTRACT_WORKERS=1"]
INLINE: list[str] = []  # the tests' default: HARVESTER_EXTRACT_WORKERS=0
OFF = ["-s", "HARVESTER_LISTING_LOOKAHEAD=False"]


def _asked(repo: Repository) -> Counter[tuple[tuple[str, str], ...]]:
    return Counter(tuple(sorted(r.items())) for r in repo.list_requests)


def _stats(store: Path) -> dict[str, int]:
    return reports(store)[-1]["stats"]


@pytest.mark.parametrize("workers, windows", [
    (WORKER, ["-s", "HARVESTER_OAI_WINDOWS=3"]),
    (INLINE, ["-s", "HARVESTER_OAI_WINDOWS=3"]),
    # windows of more than 15 records halve the next: the guess of the next window follows
    (WORKER, ["-s", "HARVESTER_OAI_WINDOWS=2", "-s", "HARVESTER_OAI_WINDOW_RECORDS=15"]),
], ids=["worker", "inline", "windows-halved"])
def test_a_backfill_asks_the_same_requests_with_and_without_the_lookahead(
        tmp_path: Path, workers: list[str], windows: list[str]) -> None:
    asked = {}
    for name, switch in (("on", []), ("off", OFF)):
        repo = Repository(page_size=10)
        ids = repo.add(240, spread=60)
        with LookalikeServer(repo) as server:
            run = harvest(server.url, str(tmp_path / name), *windows, *workers, *switch)
        assert run.code == 0, run.stderr[-3000:]
        assert sorted(records(tmp_path / name)) == sorted(ids)
        asked[name] = _asked(repo)
        assert max(asked[name].values()) == 1  # no page asked twice
    assert asked["on"] == asked["off"]
    on, off = _stats(tmp_path / "on"), _stats(tmp_path / "off")
    pages = on["listing/pages"]
    assert pages == off["listing/pages"] >= 24
    # every page with a token had its next page guessed, every window's last page the next
    # window's first (an empty window's noRecordsMatch too), and every guess stood in for it
    assert on["listing/lookahead_made"] == on["listing/lookahead_used"] >= pages - 1
    assert "listing/lookahead_wasted" not in on
    assert "listing/lookahead_made" not in off


def test_tokens_with_entities_are_not_guessed(tmp_path: Path) -> None:
    repo = Repository(page_size=10)
    repo.token_format = "set=all&offset={}"  # written &amp; in the XML
    ids = repo.add(45)
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1", *WORKER)
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert len(repo.list_requests) == 5
    assert "listing/lookahead_made" not in _stats(tmp_path)


@pytest.mark.parametrize("workers", [WORKER, INLINE], ids=["worker", "inline"])
def test_a_busy_answer_to_a_guessed_page_is_waited_out(tmp_path: Path, repo: Repository,
                                                       server: LookalikeServer,
                                                       workers: list[str]) -> None:
    ids = repo.add(50)
    served = {"lists": 0}
    answer = repo.answer

    def busy_then_served(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        # the second list request is the first page's guess: 503 twice, then served
        if params.get("verb") == "ListRecords":
            served["lists"] += 1
            if served["lists"] in (2, 3):
                repo.requests.append(dict(params))
                return 503, {"Retry-After": "1"}, b"busy"
        return answer(params)

    repo.answer = busy_then_served  # type: ignore[method-assign]
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1", *workers)
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert _stats(tmp_path)["listing/lookahead_used"] == 4  # 5 pages, 4 with a token
    assert reports(tmp_path)[-1]["requests"]["retries"] == 2
    assert len(repo.list_requests) == 5 + 2


@pytest.mark.parametrize("workers", [WORKER, INLINE], ids=["worker", "inline"])
def test_a_403_to_a_guessed_page_stops_the_walk_with_its_reason(
        tmp_path: Path, repo: Repository, server: LookalikeServer, workers: list[str]) -> None:
    repo.add(50)
    repo.forbid_after = 2  # two pages served, the third (a guess) refused
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1", *workers)
    assert run.code == 6, run.stderr[-3000:]
    assert "HTTP 403" in run.last_line()
    assert len(records(tmp_path)) == 20  # the pages served are stored
    assert len(repo.list_requests) == 3  # a 403 is not retried, and nothing is asked after it
    report = reports(tmp_path)[-1]
    assert report["exit_code"] == 6


@pytest.mark.parametrize("workers", [WORKER, INLINE], ids=["worker", "inline"])
def test_a_looping_token_still_stops_the_walk(tmp_path: Path, repo: Repository,
                                              server: LookalikeServer,
                                              workers: list[str]) -> None:
    repo.add(25)
    repo.loop_token = True
    run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_OAI_WINDOWS=1", *workers)
    assert run.code == 6, run.stderr[-3000:]
    assert "token loop" in run.last_line()
    assert len(repo.list_requests) <= 3
    assert len(records(tmp_path)) == 10
