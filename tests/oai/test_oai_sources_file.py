"""A sources file names OAI-PMH repositories, so `harvester harvest gallica` and `harvester
check gallica` work; `harvester check oai --endpoint URL` too."""

from __future__ import annotations

import json
from pathlib import Path

from oai_lookalike import LookalikeServer, Repository
from oai_source_support import FAST, cli, records


def _sources(path: Path, endpoint: str) -> None:
    path.write_text(f"""
[sources.gallica]
kind = "oai"
endpoint = "{endpoint}"
sets = ["coll:b"]
metadata_prefix = "oai_dc"
download_delay = 0

[sources.gallica.settings]
AUTOTHROTTLE_ENABLED = false
""", "utf-8")


def test_harvest_a_source_of_the_default_sources_file(tmp_path: Path, repo: Repository,
                                                      server: LookalikeServer) -> None:
    repo.add(6, sets=["coll:a"])
    b = repo.add(7, sets=["coll:b"])
    _sources(tmp_path / "harvester.toml", server.url)
    store = tmp_path / "store"
    run = cli("harvest", "gallica", "--store", str(store), *FAST, cwd=tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(store, "gallica")) == sorted(b)
    # the file's politeness is the run's (its report says so)
    report = json.loads(next((store / "runs" / "gallica").glob("*.json")).read_text())
    assert report["politeness"]["download_delay"] == 0
    assert all(r.get("set") == "coll:b" for r in repo.list_requests if "resumptionToken" not in r)


def test_check_a_named_source_and_an_endpoint(tmp_path: Path, repo: Repository,
                                              server: LookalikeServer) -> None:
    repo.add(12, sets=["coll:b"])
    sources = tmp_path / "sources.toml"
    _sources(sources, server.url)
    run = cli("check", "gallica", "--sources", str(sources), "--json", "-s", "DOWNLOAD_DELAY=0")
    assert run.code == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result["identify"]["granularity"] == "YYYY-MM-DDThh:mm:ssZ"
    assert result["formats"] == ["oai_dc"] and result["sets"] == ["coll:b"]
    assert result["records"]["on_page"] == 10 and result["records"]["token"] is True
    assert result["records"]["first"]["title"] == "Record 1"
    assert [r["verb"] for r in repo.requests] == ["Identify", "ListMetadataFormats", "ListSets",
                                                   "ListRecords", "ListRecords"]
    assert "until" in repo.requests[-1] and "from" not in repo.requests[-1]  # a first window
    assert result["steps"][-1]["status"] == "ok", result["steps"]
    plain = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0")
    assert plain.code == 0, plain.stderr[-3000:]
    assert "Look-alike" in plain.stdout and "10 records" in plain.stdout
    repo.forbidden = True
    failed = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0")
    assert failed.code == 1 and "HTTP 403" in failed.stderr


def test_check_warns_of_date_windows_the_repository_does_not_keep(
        repo: Repository, server: LookalikeServer) -> None:
    """A first window refused (an `until` without `from`: django-oai-pmh) or answered with
    records after its `until` (from/until ignored): the check says so as a warning and
    still passes (a backfill reads such a repository as one list)."""
    repo.add(12)
    repo.until_needs_from = True
    refused = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0")
    assert refused.code == 0, refused.stderr[-3000:]
    warned = [line for line in refused.stdout.splitlines() if " warn " in line]
    assert len(warned) == 1 and "badArgument" in warned[0] and "without date windows" in warned[0]
    repo.until_needs_from = False
    repo.ignore_window = True
    ignored = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0", "--json")
    assert ignored.code == 0, ignored.stderr[-3000:]
    last = json.loads(ignored.stdout)["steps"][-1]
    assert last["status"] == "warn" and "datestamped after it" in last["summary"], last


def test_check_obeys_robots_txt_as_the_harvest_does(tmp_path: Path, repo: Repository,
                                                    server: LookalikeServer) -> None:
    """robots.txt disallowing the endpoint: the check fails with that reason before asking
    the repository anything, as the harvest stops (before, the check said "ok")."""
    repo.add(5)
    repo.robots_txt = b"User-agent: *\nDisallow: /oai\n"
    run = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0", "--json")
    assert run.code == 1
    assert "robots.txt disallows the endpoint" in run.stderr
    assert json.loads(run.stdout)["robots"]["endpoint_allowed"] is False
    assert repo.requests == [] and repo.robots_asked == 1
    harvest = cli("harvest", "oai", "--endpoint", server.url, "--name", "r", "--store",
                  str(tmp_path / "s"), *FAST)
    assert harvest.code == 6 and "robots.txt" in harvest.stderr
    repo.robots_txt = b"User-agent: *\nDisallow: /private\n"
    allowed = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0")
    assert allowed.code == 0, allowed.stderr[-3000:]
    assert "endpoint allowed" in allowed.stdout.splitlines()[0]


def test_check_asks_again_after_a_retry_after(repo: Repository,
                                              server: LookalikeServer) -> None:
    """A 503 or 429 with Retry-After (seconds or an HTTP date) is waited out and asked
    again, as the harvest does (before, the check failed on it); one without Retry-After,
    or with a longer one than HARVESTER_BACKOFF_MAX, still fails the check."""
    from email.utils import formatdate
    from time import time

    repo.add(5)
    repo.fail_next(1, 503, retry_after="1", verb="Identify")
    repo.fail_next(2, 429, retry_after=formatdate(time() + 1, usegmt=True))
    run = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0")
    assert run.code == 0, run.stderr[-3000:]
    verbs = [r["verb"] for r in repo.requests]
    assert verbs[:2] == ["Identify", "Identify"] and verbs.count("ListRecords") == 2 + 2
    repo.fail_next(1, 503, retry_after="30", verb="Identify")
    long = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0",
               "-s", "HARVESTER_BACKOFF_MAX=5")
    assert long.code == 1 and "Identify answered HTTP 503" in long.stderr
    repo.fail_next(1, 503, verb="Identify")
    plain = cli("check", "oai", "--endpoint", server.url, "-s", "DOWNLOAD_DELAY=0")
    assert plain.code == 1 and "Identify answered HTTP 503" in plain.stderr


def test_a_broken_sources_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[sources.x]\nkind = "ftp"\nendpoint = "http://127.0.0.1:9/"\n')
    run = cli("harvest", "x", "--sources", str(bad), "--store", str(tmp_path / "s"))
    assert run.code == 2 and "kind 'ftp'" in run.stderr.strip().splitlines()[-1]
