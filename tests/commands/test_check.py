"""`harvester check SITE`: a preflight of one archive, against the sample archive on loopback
and a small front server of our own (for listings, robots.txt and redirects the sample does
not serve)."""

from __future__ import annotations

import io
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harvester.cli import main
from harvester.commands.check import CheckOptions, Fetcher, check_site
from harvester.sample import SampleArchive, SampleServer
from harvester.sample.routes import route
from harvester.sites import get_site

HARVESTER = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "harvester")
NO_DELAY = ["-s", "DOWNLOAD_DELAY=0"]
SITE = get_site("wilson")


@pytest.fixture
def server() -> Iterator[SampleServer]:
    with SampleServer(SampleArchive(30)) as served:
        yield served


def check(base_url: str, *extra: str) -> tuple[int, str, str]:
    """Run `harvester check wilson` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdout", out)
        mp.setattr("sys.stderr", err)
        status = main(["check", "wilson", "--base-url", base_url, *NO_DELAY, *extra])
    return status, out.getvalue(), err.getvalue()


def plain(stdout: str) -> dict[str, str]:
    """`section.key: value` lines as a dict."""
    return dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)


def listed(base_url: str) -> list[str]:
    """The document URLs of the sample's first listing page, read by the site's parser."""
    body = route(SampleArchive(30), "GET", SITE.listing_url("", 0), None).body
    return list(SITE.parse_listing(body, SITE.listing_url(base_url, 0)).document_urls)


def first_listed(base_url: str) -> str:
    return listed(base_url)[0]


def shows(printed: str, value: str | None) -> bool:
    """A value is printed whole up to 100 characters, else its start and its length."""
    if not value:
        return printed == "(none)"
    if len(value) <= 100:
        return printed == value
    return printed.startswith(value[:60]) and f"({len(value):,} chars" in printed


# --- a front server of our own ------------------------------------------------------------
Answer = tuple[int, dict[str, str], bytes]


@contextmanager
def front(answer: Callable[[str], Answer]) -> Iterator[tuple[str, list[str], list[str]]]:
    """Serve answer(path) on loopback: yields (base URL, paths requested, their User-Agents)."""
    requested: list[str] = []
    agents: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            requested.append(self.path)
            agents.append(self.headers.get("User-Agent", ""))
            status, headers, body = answer(self.path)
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=UTF-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", requested, agents
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


def sample_answer(archive: SampleArchive, path: str) -> Answer:
    resp = route(archive, "GET", path, None)
    return resp.status, dict(resp.headers), resp.body


# --- readable archive ---------------------------------------------------------------------
def test_console_script_prints_every_field_of_the_first_listed_document(server):
    result = subprocess.run(
        [HARVESTER, "check", "wilson", "--base-url", server.base_url, *NO_DELAY],
        capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = plain(result.stdout)
    assert lines["document.fetched"] == f"{first_listed(server.base_url)} (HTTP 200)"
    expected = server.control().expected(lines["document.record_id"])
    for name in ("record_id", "node_id", "url", "title", "date", "date_text", "summary",
                 "source", "uploaded", "type", "classification", "credits"):
        assert shows(lines[f"document.{name}"], expected[name]), name
    for name in ("authors", "places", "subjects", "people", "languages", "original_archive",
                 "donors"):
        assert shows(lines[f"document.{name}"], "; ".join(expected[name])), name
    assert lines["document.rights"].startswith(expected["rights"].split("\n")[0][:60])
    assert f"({len(expected['rights']):,} chars)" in lines["document.rights"]
    for i, text in enumerate(expected["texts"]):
        assert lines[f"document.texts[{i}]"].startswith(
            f"{text['kind']} ({text['language']}), {len(text['text']):,} chars: ")
    assert lines["listing.links_found"].startswith(f"{len(listed(server.base_url))} ")
    assert lines["listing.total"] == f"{server.archive.size:,}"
    assert lines["robots.listing_allowed"] == "yes"
    assert lines["result"].startswith("ok")
    made = server.stats.snapshot()
    assert made["requests"] == 3 <= 4
    assert made["by_kind"] == {"robots": 1, "listing": 1, "document": 1}
    assert lines["requests"].startswith("3 of at most 4")


def test_json_holds_the_full_record_of_the_first_listed_document(server):
    status, stdout, stderr = check(server.base_url, "--json")
    assert status == 0, stderr
    result = json.loads(stdout)
    record = result["document"]["record"]
    expected = server.control().expected(record["record_id"])
    assert {name: record[name] for name in expected} == expected
    assert len(record["content_sha256"]) == 64 and record["harvested_at"].endswith("Z")
    assert result["listing"]["links_found"] == len(listed(server.base_url))
    assert [r["what"] for r in result["requests"]] == ["robots.txt", "listing", "document"]
    assert result["status"] == 0 and result["reason"] is None


def test_on_a_terminal_the_output_is_an_aligned_table(server, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setenv("COLUMNS", "200")  # room for a whole title
    assert main(["check", "wilson", "--base-url", server.base_url, *NO_DELAY]) == 0
    lines = out.getvalue().splitlines()
    for heading in ("robots", "listing", "document"):
        assert heading in lines
    rows = [line for line in lines if line.startswith("  ")]
    columns = {len(line) - len(line[2:].split(" ", 1)[1].lstrip()) for line in rows}
    assert len(columns) == 1  # every value starts in the same column
    title = next(line for line in rows if line.split()[0] == "title")
    record_id = next(line for line in rows if line.split()[0] == "record_id").split()[1]
    assert title.endswith(server.control().expected(record_id)["title"])


def test_on_a_narrow_terminal_rows_fit_and_cut_values_keep_their_length(server, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["check", "wilson", "--base-url", server.base_url, *NO_DELAY]) == 0
    lines = [line for line in out.getvalue().splitlines() if line.startswith("  ")]
    rows = [line.split(None, 1) for line in lines]
    for line, (key, value) in zip(lines, rows, strict=True):
        if key != "result" and not value.startswith("http"):
            assert len(line) <= 80, line
    values = dict(rows)
    rights = server.control().expected(values["record_id"])["rights"]
    assert values["rights"].endswith(f"… ({len(rights):,} chars)")


def test_without_robots_obey_robots_txt_is_not_fetched(server):
    status, stdout, _ = check(server.base_url, "-s", "ROBOTSTXT_OBEY=False")
    assert status == 0
    assert "robots" not in server.stats.snapshot()["by_kind"]
    assert "ROBOTSTXT_OBEY is off" in plain(stdout)["robots.fetched"]


def test_a_same_host_redirect_is_followed_within_four_requests():
    archive = SampleArchive(30)
    listing = SITE.listing_url("", 0)
    slug = first_listed("http://x").rsplit("/", 1)[1]
    record_id = str(archive.document(archive.index_of_slug(slug)).record_id)

    def answer(path: str) -> Answer:
        status, headers, body = sample_answer(archive, path)
        if path == listing:  # the listing links the old numeric URL, which redirects
            body = body.replace(f"/document/{slug}".encode(), f"/document/{record_id}".encode())
        return status, headers, body

    with front(answer) as (base_url, requested, agents):
        status, stdout, stderr = check(base_url)
    assert status == 0, stderr
    assert requested == ["/robots.txt", listing, f"/document/{record_id}", f"/document/{slug}"]
    lines = plain(stdout)
    assert lines["document.record_id"] == record_id
    assert lines["document.fetched"] == \
        f"{base_url}/document/{record_id} -> {base_url}/document/{slug} (HTTP 200)"
    assert lines["requests"].startswith("4 of at most 4")
    assert len(agents) == 4 and all(a.startswith("archive-harvester/") for a in agents)


def test_a_second_redirect_is_not_followed_past_four_requests():
    def answer(path: str) -> Answer:
        if path.startswith("/document/"):
            return 301, {"Location": path + "x"}, b""
        return sample_answer(SampleArchive(30), path)

    with front(answer) as (base_url, requested, _):
        status, _, stderr = check(base_url)
    assert status == 1
    assert len(requested) == 4
    assert "at most 4 requests" in stderr and len(stderr.splitlines()) == 1


# --- crawl-delay and politeness -----------------------------------------------------------
@pytest.mark.parametrize(("crawl_delay", "download_delay", "waits"),
                         [(2.5, 0.0, 2.5), (2.5, 4.0, 4.0), (600.0, 0.0, 60.0)])
def test_waits_the_larger_of_crawl_delay_and_download_delay(crawl_delay, download_delay, waits):
    slept: list[float] = []
    options = CheckOptions(user_agent="test-agent", download_delay=download_delay)
    with SampleServer(SampleArchive(30), crawl_delay=crawl_delay) as served:
        fetcher = Fetcher(options, host="127.0.0.1", sleep=slept.append, clock=lambda: 100.0)
        result: dict[str, Any] = {}
        check_site(SITE, served.base_url, options, result, fetcher)
    assert slept == [waits, waits]  # before the listing and before the document
    assert result["robots"]["crawl_delay"] == crawl_delay
    assert result["document"]["record"]["title"]


# --- failures -----------------------------------------------------------------------------
def test_a_listing_without_document_links_exits_6():
    page = (b"<html><body><h1>Search</h1><p>Results: 1 - 100 of 16,153</p>"
            b"<table class='table'><tbody id='results'></tbody></table>"
            b"<script>drawResults('#results')</script></body></html>")

    def answer(path: str) -> Answer:
        if path == "/robots.txt":
            return 404, {}, b"not found"
        return 200, {}, page

    with front(answer) as (base_url, requested, _):
        status, stdout, stderr = check(base_url)
    assert status == 6
    assert len(requested) == 2  # robots.txt and the listing, no document
    assert "no document links" in stderr and len(stderr.splitlines()) == 1
    lines = plain(stdout)
    assert lines["listing.links_found"].startswith("0 ")
    assert "no rules, everything allowed" in lines["robots.fetched"]


def test_robots_txt_disallowing_everything_stops_before_the_listing():
    def answer(path: str) -> Answer:
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n"
        return sample_answer(SampleArchive(30), path)

    with front(answer) as (base_url, requested, _):
        status, stdout, stderr = check(base_url)
    assert status == 1
    assert requested == ["/robots.txt"]
    assert "robots.txt disallows" in stderr and len(stderr.splitlines()) == 1
    assert plain(stdout)["robots.listing_allowed"] == "NO"


@pytest.mark.parametrize("paths", ["listing", "document"])
def test_a_challenge_page_exits_5_without_retrying(server, paths):
    server.set_faults({"challenge": {"paths": paths, "always": True}})
    status, _, stderr = check(server.base_url)
    assert status == 5
    assert "bot-challenge page" in stderr and len(stderr.splitlines()) == 1
    assert server.stats.snapshot()["requests"] == (2 if paths == "listing" else 3)


def test_a_document_answering_500_exits_1(server):
    server.set_faults({"500": {"paths": "document", "always": True}})
    status, stdout, stderr = check(server.base_url)
    assert status == 1
    assert "HTTP 500" in stderr and len(stderr.splitlines()) == 1
    assert plain(stdout)["result"].startswith("FAILED (exit 1)")


def test_a_document_url_serving_another_page_exits_1():
    archive = SampleArchive(30)

    def answer(path: str) -> Answer:
        return sample_answer(archive, "/" if path.startswith("/document/") else path)

    with front(answer) as (base_url, requested, _):
        status, stdout, stderr = check(base_url)
    assert status == 1
    assert "the document page could not be read" in stderr and len(stderr.splitlines()) == 1
    assert "document.record_id" not in plain(stdout)


def test_a_redirect_to_another_host_is_refused(server):
    server.set_faults({"redirect": {"paths": "document", "always": True}})
    status, _, stderr = check(server.base_url)
    assert status == 1
    assert "another host refused" in stderr
    assert server.stats.snapshot()["requests"] == 3


def test_an_unreachable_archive_exits_1_with_the_reason():
    with front(lambda path: (200, {}, b"")) as (base_url, _, _):
        pass  # closed again: nothing listens on the port now
    status, _, stderr = check(base_url)
    assert status == 1
    assert "cannot fetch the robots.txt" in stderr and len(stderr.splitlines()) == 1


@pytest.mark.parametrize("argv", [["check", "nosuchsite"], ["check", "wilson", "--base-url", "ftp://x"]])
def test_bad_arguments_exit_2(argv, capsys):
    assert main(argv) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
