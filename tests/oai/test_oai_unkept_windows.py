"""Repositories that do not keep to what a list request asked for, as django-oai-pmh 0.3.9
does (found by a harvest of it from outside): an `until` without `from` refused, token pages
that drop the set, token pages that list what follows their window. The harvest still
stores every record of what it asked for, once, and exits 0; nothing else is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from oai_lookalike import LookalikeServer, Repository
from oai_source_support import harvest, records, reports


@pytest.mark.parametrize("granularity", ["day", "seconds"])
def test_an_until_without_from_refused_is_read_as_one_list(tmp_path: Path,
                                                             granularity: str) -> None:
    """A backfill's first window is asked for without `from`; a repository that answers
    badArgument to that (django-oai-pmh) is read as one list, not given up on (exit 6,
    nothing stored, as before)."""
    repo = Repository(granularity=granularity, page_size=7)
    repo.until_needs_from = True
    ids = repo.add(40, spread=6 * 3600)
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path))
        asked = list(repo.window_requests)
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert any("until" in r and "from" not in r for r in asked)  # the window it refused
    assert {"from", "until"}.isdisjoint(asked[-1]), asked  # then the whole list
    assert "one list, without date windows" in run.stderr
    assert reports(tmp_path)[-1]["counts"]["new"] == len(ids)


@pytest.mark.parametrize("granularity", ["day", "seconds"])
def test_token_pages_that_leave_their_window_lose_no_record(tmp_path: Path,
                                                            granularity: str) -> None:
    """A repository whose token pages list from the window's `until` on (not the window's
    own records after its first page): every window but the first page of each would be
    lost, and the run would end "complete". A record datestamped after the window's end is
    the sign: the list is read again whole, and every record comes."""
    repo = Repository(granularity=granularity, page_size=5)
    repo.token_window_drift = True
    ids = repo.add(120, spread=4 * 3600, file=True)
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "-s", "HARVESTER_DOWNLOAD_FILES=False")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert "one list, without date windows" in run.stderr
    counts = reports(tmp_path)[-1]["counts"]
    assert counts["new"] == len(ids)
    # records met again are unchanged, not "repaired" (files are not downloaded in this run)
    assert counts["repaired"] == 0 and counts["changed"] == 0, counts


def test_a_set_whose_token_pages_drop_the_set_is_harvested_alone(tmp_path: Path) -> None:
    """Token pages that forget the set list the whole repository: a harvest of one set
    (hierarchical: `coll` holds `coll:maps`) stores that set's records only, every one."""
    repo = Repository(page_size=4)
    repo.token_drops_set = True
    maps = repo.add(9, sets=["coll", "coll:maps"])
    other = repo.add(11, sets=["other"])
    loose = repo.add(3)  # in no set
    more_maps = repo.add(6, sets=["coll", "coll:maps"])
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path / "maps"), "--set", "coll:maps")
        whole = harvest(server.url, str(tmp_path / "all"))
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path / "maps")) == sorted(maps + more_maps)
    assert "outside the walk" in run.stderr
    assert reports(tmp_path / "maps")[-1]["counts"]["new"] == len(maps + more_maps)
    assert whole.code == 0, whole.stderr[-3000:]
    assert sorted(records(tmp_path / "all")) == sorted(maps + other + loose + more_maps)


def test_a_set_walk_keeps_records_whose_header_names_no_set(tmp_path: Path) -> None:
    """Headers without setSpec say nothing about a record's sets (some repositories never
    list them): the records of a set's list are all kept."""
    repo = Repository(page_size=4)
    repo.hide_sets = True
    ids = repo.add(10, sets=["coll"])
    repo.add(5, sets=["other"])
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), "--set", "coll")
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    assert all(r["oai_sets"] == [] for r in records(tmp_path).values())
