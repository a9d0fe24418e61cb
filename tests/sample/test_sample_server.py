"""The sample site over real HTTP on loopback: listing, documents, redirects, files, robots."""

from __future__ import annotations

import gzip
import http.client
from urllib.parse import urlsplit

from conftest import fetch
from sample_reference import listing_links, parse

from harvester.sample import SampleArchive, SampleServer
from harvester.sample.model import SCAN_DIR


def test_listing_pages_pager_and_total(server: SampleServer) -> None:
    base = server.base_url
    seen: list[str] = []
    url: str | None = f"{base}/search?page=0&sort_by=created&sort_order=DESC"
    pages = 0
    while url:
        parts = urlsplit(url)
        reply = fetch(base, f"{parts.path}?{parts.query}")
        assert reply.status == 200
        links, url, count = listing_links(reply.body, f"{parts.path}?{parts.query}")
        assert count and count.endswith("of 60")
        seen.extend(links)
        url = f"{base}{url}" if url else None
        pages += 1
    assert pages == 6
    archive = server.archive
    assert seen == [f"/document/{archive.slug(i)}" for i in range(59, -1, -1)]
    last = fetch(base, "/search?page=5").body.decode()
    assert "Results: 51 - 60 of 60" in last
    first = fetch(base, "/search?page=0").body.decode()
    assert '<a class="page-link" href="?page=1">2</a>' in first


def test_listing_past_the_end_has_no_results(server: SampleServer) -> None:
    reply = fetch(server.base_url, "/search?page=6")
    assert reply.status == 200
    links, nxt, count = listing_links(reply.body, "/search?page=6")
    assert links == [] and nxt is None and count is None
    assert b"No results" in reply.body


def test_document_and_node_urls_serve_the_same_page(server: SampleServer) -> None:
    archive = server.archive
    for i in (0, 4, 13):
        doc = archive.document(i)
        by_slug = fetch(server.base_url, f"/document/{doc.slug}")
        by_node = fetch(server.base_url, f"/node/{doc.nid}")
        assert by_slug.status == by_node.status == 200
        assert by_slug.body == by_node.body
        assert by_slug.headers["content-type"] == "text/html; charset=UTF-8"
        assert int(by_slug.headers["content-length"]) == len(by_slug.body)
        got = parse(by_slug.body)
        assert got["record_id"] == str(doc.record_id)
        # the page gives the content; the lifecycle fields are the harvester's
        lifecycle = {"date", "status", "withdrawn_at"}
        assert {k: v for k, v in archive.expected_record(i).items() if k not in lifecycle} == got


def test_old_numeric_urls_redirect_to_the_slug(server: SampleServer) -> None:
    doc = server.archive.document(7)
    reply = fetch(server.base_url, f"/document/{doc.record_id}")
    assert reply.status == 301 and reply.headers["location"] == f"/document/{doc.slug}"
    assert fetch(server.base_url, "/document/123").status == 404


def test_downloads_and_previews_are_pdfs(server: SampleServer) -> None:
    archive = server.archive
    with_download = next(archive.document(i) for i in range(60) if archive.document(i).has_download)
    with_scan = next(archive.document(i) for i in range(60) if archive.document(i).has_scan)
    without = next(archive.document(i) for i in range(60) if not archive.document(i).has_download)
    pdf = fetch(server.base_url, with_download.download_path)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF-1.4") and pdf.body.rstrip().endswith(b"%%EOF")
    assert f"Record ID {with_download.record_id}".encode() in pdf.body
    assert 1000 < len(pdf.body) < 20_000
    assert fetch(server.base_url, with_download.download_path).body == pdf.body  # deterministic
    scan = fetch(server.base_url, with_scan.scan_path)
    assert scan.status == 200 and scan.body.startswith(b"%PDF") and scan.body != pdf.body
    assert with_scan.scan_path.startswith(SCAN_DIR)
    assert fetch(server.base_url, without.download_path).status == 404


def test_pdf_xref_offsets_are_right(server: SampleServer) -> None:
    body = fetch(server.base_url, server.archive.document(0).download_path).body
    startxref = int(body.rsplit(b"startxref", 1)[1].split()[0])
    assert body[startxref:].startswith(b"xref")
    entries = body[startxref:].split(b"\n")[3:9]
    for n, entry in enumerate(entries, start=1):
        offset = int(entry.split()[0])
        assert body[offset:].startswith(f"{n} 0 obj".encode())


def test_robots_txt_with_and_without_crawl_delay() -> None:
    with SampleServer(SampleArchive(3)) as plain:
        text = fetch(plain.base_url, "/robots.txt").body.decode()
        assert "Disallow: /_sec/" in text and "Crawl-delay" not in text
    with SampleServer(SampleArchive(3), crawl_delay=1.5) as slow:
        reply = fetch(slow.base_url, "/robots.txt")
        assert reply.headers["content-type"].startswith("text/plain")
        assert "Crawl-delay: 1.5" in reply.body.decode()


def test_unknown_paths_get_a_drupal_404(server: SampleServer) -> None:
    for path in ("/document/no-such-slug", "/node/1", "/nothing/here", "/document/1/download"):
        reply = fetch(server.base_url, path)
        assert reply.status == 404 and b"Page not found" in reply.body
        assert b'class="content-block"' not in reply.body


def test_sec_verify_is_denied_and_head_has_no_body(server: SampleServer) -> None:
    assert fetch(server.base_url, "/_sec/verify", method="POST", body=b"x").status == 403
    doc = server.archive.document(0)
    head = fetch(server.base_url, doc.path, method="HEAD")
    assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) > 30_000


def test_gzip_when_asked(server: SampleServer) -> None:
    path = server.archive.document(2).path
    plain = fetch(server.base_url, path)
    zipped = fetch(server.base_url, path, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert len(zipped.body) < len(plain.body) / 3
    assert gzip.decompress(zipped.body) == plain.body
    assert "content-encoding" not in plain.headers


def test_keep_alive_serves_many_requests_on_one_connection(server: SampleServer) -> None:
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for i in range(20):
            conn.request("GET", server.archive.document(i).path)
            resp = conn.getresponse()
            assert resp.status == 200 and len(resp.read()) > 30_000
            assert not resp.will_close
    finally:
        conn.close()


def test_server_closes_kept_alive_connections() -> None:
    with SampleServer(SampleArchive(5)) as srv:
        parts = urlsplit(srv.base_url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("GET", "/robots.txt")
        conn.getresponse().read()
    conn.close()  # the server is closed: its side of the connection was shut down
