"""An endpoint that moved to another host answers with a redirect there (as repositories do
after a migration, or from http to https on a new name): an OAI-PMH source follows it, as
OAI-PMH clients do, and reads the new host's robots.txt; file links on the old host are
fetched through the redirect, links on the new one with --file-host naming it (as for any
other host). An HTML source's crawl still never leaves its host (tests/crawl). The other
host is the look-alike reached as "localhost", the old one a redirector on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from oai_lookalike import LookalikeServer, Repository
from oai_source_support import cli, harvest, records, reports


@contextmanager
def moved_to(target: str, status: int = 301,
             asked: list[str] | None = None) -> Iterator[str]:
    """An endpoint on 127.0.0.1 whose every request is redirected to `target`'s host (the
    paths asked appended to `asked`)."""
    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if asked is not None:
                asked.append(self.path)
            self.send_response(status)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/oai"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_endpoint_that_moved_to_another_host_is_followed(tmp_path: Path) -> None:
    repo = Repository(page_size=5)
    old_links = repo.add(6, file=True)  # file links on the old host (its base URL's)
    new_links = repo.add(17, file=True)
    with LookalikeServer(repo) as server:
        port = server.url.split(":")[2].split("/")[0]
        with moved_to(f"http://localhost:{port}") as old:
            for rid in old_links:  # links as the records were catalogued: the old address
                number = rid.rsplit("/", 1)[1]
                repo.items[rid].file = False
                repo.items[rid].extra_xml = f"<dc:identifier>{old.rsplit('/', 1)[0]}/files/" \
                                            f"{number}.pdf</dc:identifier>"
            repo.base_url = f"http://localhost:{port}/oai"  # later ones name the new host
            run = harvest(old, str(tmp_path), "--file-host", "localhost")
    assert run.code == 0, run.stderr[-3000:]
    got = records(tmp_path)
    assert sorted(got) == sorted(old_links + new_links)  # every record, through the redirect
    assert repo.robots_asked >= 1  # the new host's robots.txt was read
    assert repo.files_served == len(got)  # both kinds of links fetched
    assert all(r["files"] and r["files"][0]["key"] for r in got.values())
    stats = reports(tmp_path)[-1]["stats"]
    assert stats.get("scope/listing_redirects_followed", 0) >= 1, json.dumps(stats)[:2000]
    assert "redirects to another host, followed" in run.stderr


def test_a_permanent_move_sends_the_next_requests_to_the_new_address(tmp_path: Path) -> None:
    """After a 301 or 308 the listing is asked at its new address (one request a page, not
    two); a temporary redirect (302, 307) leaves the old address in use."""
    asked_at: dict[int, list[str]] = {}
    for status in (301, 308, 302, 307):
        repo = Repository(page_size=4)
        ids = repo.add(30)
        asked_at[status] = []
        store = tmp_path / str(status)
        with LookalikeServer(repo) as server:
            port = server.url.split(":")[2].split("/")[0]
            with moved_to(f"http://localhost:{port}", status, asked_at[status]) as old:
                run = harvest(old, str(store), "-s", "HARVESTER_OAI_WINDOW_RECORDS=1000000")
        assert run.code == 0, run.stderr[-3000:]
        assert sorted(records(store)) == sorted(ids)  # every record, either way
        report = reports(store)[-1]
        pages = -(-30 // 4)
        listed = [p for p in asked_at[status] if "verb=ListRecords" in p]
        if status in (301, 308):
            assert report["stats"].get("scope/listing_moved") == 1, report["stats"]
            assert report["listing_moved_to"] == f"http://localhost:{port}/oai"
            assert "moved for good" in run.stderr
            assert len(listed) < pages / 2, asked_at[status]  # the rest went to the new host
        else:
            assert "scope/listing_moved" not in report["stats"]
            assert report["listing_moved_to"] is None
            assert len(listed) >= pages, asked_at[status]  # every page through the redirect


def test_without_the_new_hosts_name_its_file_links_stay_links(tmp_path: Path) -> None:
    repo = Repository(page_size=5)
    ids = repo.add(4, file=True)
    with LookalikeServer(repo) as server:
        port = server.url.split(":")[2].split("/")[0]
        repo.base_url = f"http://localhost:{port}/oai"
        with moved_to(f"http://localhost:{port}") as old:
            run = harvest(old, str(tmp_path))
    assert run.code == 0, run.stderr[-3000:]
    got = records(tmp_path)
    assert sorted(got) == sorted(ids) and repo.files_served == 0
    assert all(r["files"] == [] and any("localhost" in u for u in r["oai_identifiers"])
               for r in got.values())


def test_an_incremental_run_through_a_moved_endpoint_writes_nothing_new(tmp_path: Path) -> None:
    repo = Repository(page_size=5)
    ids = repo.add(12)
    with LookalikeServer(repo) as server:
        port = server.url.split(":")[2].split("/")[0]
        with moved_to(f"http://localhost:{port}", status=308) as old:
            first = harvest(old, str(tmp_path))
            idle = harvest(old, str(tmp_path), "--mode", "incremental")
    assert first.code == 0 and idle.code == 0, first.stderr[-3000:] + idle.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    report = reports(tmp_path)[-1]
    assert report["mode"] == "incremental" and report["counts"]["new"] == 0
    assert report["requests"]["listing"] <= 2


def test_check_follows_a_moved_endpoint(tmp_path: Path) -> None:
    repo = Repository(page_size=5)
    repo.add(7)
    with LookalikeServer(repo) as server:
        port = server.url.split(":")[2].split("/")[0]
        with moved_to(f"http://localhost:{port}") as old:
            run = cli("check", "oai", "--endpoint", old, "-s", "DOWNLOAD_DELAY=0", "--json")
    assert run.code == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result["identify"]["repository_name"] == "Look-alike"
    assert result["records"]["on_page"] == 5
