"""WarcCapture and its parts without a crawl: exchanges, revisits in one run, failures."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from capture_support import warcio_check
from scrapy.http import Headers, Request, Response
from warcio.archiveiterator import ArchiveIterator

from harvester.capture.exchange import Exchange, exchange_from, wire_headers
from harvester.capture.extension import WarcCapture
from harvester.capture.payloads import PayloadIndex, payload_index_key, payload_key
from harvester.capture.records import Original, PayloadDigest
from harvester.exceptions import StoreError
from harvester.extractpool import ExtractPool
from pipelines.storage.local import LocalStore

RUN = "20240501T120000Z-abcdef12"
WHEN = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def exchange(url: str, body: bytes, status: int = 200) -> Exchange:
    return Exchange(url=url, method="GET", request_headers=[("Host", "example.org")],
                    request_body=b"", protocol="HTTP/1.1", status=status,
                    response_headers=[("Content-Type", "text/html")], body=body,
                    ip_address="192.0.2.1", date=WHEN)


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def types_in(data: bytes) -> list[tuple[str, str]]:
    return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI") or "")
            for r in ArchiveIterator(io.BytesIO(data))]


def test_exchange_from_scrapy_objects_keeps_repeated_headers_and_adds_host():
    request = Request("http://example.org/doc/1?x=2", headers={"Accept": "text/html"})
    headers = Headers()
    headers.appendlist("set-cookie", "a=1")
    headers.appendlist("set-cookie", "b=2")
    headers["content-type"] = "text/html"
    response = Response("http://example.org/doc/1?x=2", status=404, headers=headers,
                        body=b"gone", request=request, protocol="HTTP/1.1")
    ex = exchange_from(request, response, WHEN)
    assert ex.request_line == "GET /doc/1?x=2 HTTP/1.1"
    assert ex.status_line == "404 Not Found"
    assert ex.request_headers[0] == ("Host", "example.org")
    # Scrapy title-cases header names; every value of a repeated header is kept
    assert ("Set-Cookie", "a=1") in ex.response_headers
    assert ("Set-Cookie", "b=2") in ex.response_headers
    assert ("Content-Type", "text/html") in ex.response_headers
    assert ex.ip_address is None


def test_unknown_status_has_no_reason_and_transfer_encoding_is_renamed():
    assert exchange("http://e.org/", b"x", status=599).status_line == "599"
    assert wire_headers([("Transfer-Encoding", "chunked"), ("A", "b")]) == [
        ("X-Archive-Orig-Transfer-Encoding", "chunked"), ("A", "b")]


FETCHES = [("http://e.org/a", b"same body"), ("http://e.org/b", b"same body"),
           ("http://e.org/c", b"other body"), ("http://e.org/empty", b""),
           ("http://e.org/empty2", b"")]


@pytest.mark.parametrize("rendered_by", ["writer thread", "worker process"])
def test_repeated_payload_in_one_run_is_a_revisit_and_markers_follow_the_upload(
        tmp_path, rendered_by):
    store = LocalStore(tmp_path / "store")
    stats = Stats()
    capture = WarcCapture(store=store, site="wilson", run_id=RUN, tmp_dir=tmp_path / "tmp",
                          stats=stats)
    if rendered_by == "writer thread":
        for url, body in FETCHES:
            capture.capture(exchange(url, body))
        capture.close()
    else:  # as in a crawl: records rendered by the run's worker process
        pool = ExtractPool(1)
        capture.renderer = pool

        async def crawl() -> None:
            for url, body in FETCHES:
                capture.capture(exchange(url, body))
            await asyncio.gather(*list(capture._rendering))

        try:
            asyncio.run(crawl())
            capture.close()
        finally:
            pool.close()
        assert pool.stats.jobs == len(FETCHES) and pool.stats.inline == 0
    key = f"raw/wilson/{RUN}-00000.warc.gz"
    assert list(store.list("raw/")) == [key]
    (tmp_path / "check.warc.gz").write_bytes(store.get(key) or b"")
    check = warcio_check(tmp_path / "check.warc.gz")
    # warcinfo + 5 requests + 4 responses; the revisit has no body to check
    assert check.returncode == 0 and check.stdout.count("digest pass") == 10, check.stdout
    kinds = [t for t in types_in(store.get(key) or b"") if t[0] != "request"]
    assert kinds == [("warcinfo", ""), ("response", "http://e.org/a"),
                     ("revisit", "http://e.org/b"), ("response", "http://e.org/c"),
                     ("response", "http://e.org/empty"), ("response", "http://e.org/empty2")]
    assert stats.values["warc/records/revisit"] == 1
    assert stats.values["warc/files"] == 1
    # one index object for the WARC file, listing its two distinct non-empty payloads
    assert list(store.list("state/wilson/payloads/")) == [
        payload_index_key("wilson", f"{RUN}-00000.warc.gz")]
    index = json.loads(store.get(payload_index_key("wilson", f"{RUN}-00000.warc.gz")) or b"")
    assert index["warc"] == key
    assert set(index["payloads"]) == {PayloadDigest.of(b"same body").hex,
                                      PayloadDigest.of(b"other body").hex}  # empty: none
    marker = index["payloads"][PayloadDigest.of(b"same body").hex]
    assert marker["uri"] == "http://e.org/a"
    assert not list((tmp_path / "tmp").rglob("*.warc.gz"))


class RefusingStore(LocalStore):
    def put(self, key: str, data: bytes, **kwargs: Any) -> bool:
        if key.startswith("raw/"):
            raise StoreError("store down")
        return super().put(key, data, **kwargs)


def test_a_file_the_store_refuses_is_kept_locally_and_gets_no_markers(tmp_path):
    store = RefusingStore(tmp_path / "store")
    stats = Stats()
    capture = WarcCapture(store=store, site="wilson", run_id=RUN, tmp_dir=tmp_path / "tmp",
                          stats=stats)
    capture.capture(exchange("http://e.org/a", b"body"))
    capture.close()
    assert stats.values["warc/upload_failed"] == 1
    assert not list(store.list("state/"))  # no revisit may refer to a capture not stored
    kept = list((tmp_path / "tmp").rglob("*.warc.gz"))
    assert [p.name for p in kept] == [f"{RUN}-00000.warc.gz"]


def test_a_taken_name_gets_a_suffix_instead_of_overwriting(tmp_path):
    store = LocalStore(tmp_path / "store")
    store.put(f"raw/wilson/{RUN}-00000.warc.gz", b"another process's file")
    capture = WarcCapture(store=store, site="wilson", run_id=RUN, tmp_dir=tmp_path / "tmp")
    capture.capture(exchange("http://e.org/a", b"body"))
    capture.close()
    keys = list(store.list("raw/wilson/"))
    assert len(keys) == 2
    assert store.get(f"raw/wilson/{RUN}-00000.warc.gz") == b"another process's file"
    indexes = list(store.list("state/wilson/payloads/"))
    assert len(indexes) == 1
    index = json.loads(store.get(indexes[0]) or b"")
    assert index["warc"] in keys and index["warc"] != f"raw/wilson/{RUN}-00000.warc.gz"
    assert PayloadDigest.of(b"body").hex in index["payloads"]


def test_payload_index_ignores_a_marker_of_another_digest(tmp_path):
    store = LocalStore(tmp_path / "store")
    index = PayloadIndex(store, "wilson")
    digest = PayloadDigest.of(b"x")
    store.put(payload_key("wilson", digest.hex), json.dumps(
        {"digest": "sha256:OTHER", "uri": "u", "date": "d", "record_id": "r"}).encode())
    assert index.find(digest) is None
    index.add(digest, Original("http://e.org/", "2024-05-01T00:00:00Z", "<urn:uuid:1>"), "f")
    assert index.find(digest) == Original("http://e.org/", "2024-05-01T00:00:00Z", "<urn:uuid:1>")
    index.forget("f")
    assert index.find(digest) is None


def test_rolled_names_count_up(tmp_path: Path):
    store = LocalStore(tmp_path / "store")
    capture = WarcCapture(store=store, site="wilson", run_id=RUN, tmp_dir=tmp_path / "tmp",
                          max_bytes=1)
    for n in range(3):
        capture.capture(exchange(f"http://e.org/{n}", f"body {n}".encode()))
    capture.close()
    assert list(store.list("raw/wilson/")) == [
        f"raw/wilson/{RUN}-{n:05d}.warc.gz" for n in range(3)]


def test_payload_index_finds_payloads_of_an_earlier_run_in_its_index_objects(tmp_path):
    store = LocalStore(tmp_path / "store")
    first = WarcCapture(store=store, site="wilson", run_id=RUN, tmp_dir=tmp_path / "tmp",
                        max_bytes=1)
    for n in range(3):  # one WARC file, so one index object, per capture
        first.capture(exchange(f"http://e.org/{n}", f"body {n}".encode()))
    first.close()
    assert len(list(store.list("state/wilson/payloads/"))) == 3
    index = PayloadIndex(store, "wilson")
    for n in range(3):
        found = index.find(PayloadDigest.of(f"body {n}".encode()))
        assert found is not None and found.uri == f"http://e.org/{n}"
    assert index.find(PayloadDigest.of(b"never captured")) is None
