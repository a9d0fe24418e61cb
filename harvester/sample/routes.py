"""The sample site's URL space: a request path to a response (no HTTP, no faults, no cache)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from harvester.sample import render
from harvester.sample.corpus import SampleArchive
from harvester.sample.model import SCAN_DIR
from harvester.sample.pdf import make_pdf

# request kinds counted in the stats ("control" requests are not counted)
REQUEST_KINDS = (
    "listing", "document", "node", "redirect", "download", "preview", "robots", "other",
)

HTML = "text/html; charset=UTF-8"
_DOC_RE = re.compile(r"^/document/([^/]+)$")
_DOWNLOAD_RE = re.compile(r"^/document/(\d+)/download$")
_NODE_RE = re.compile(r"^/node/(\d+)$")
_SCAN_RE = re.compile("^" + re.escape(SCAN_DIR) + r"(\d+)\.pdf$")


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "other"
    gzipped: bytes | None = None  # the body gzip-compressed, filled by the server on demand


def request_kind(path: str) -> str:
    """The stats kind of a request path (without query)."""
    if path == "/search":
        return "listing"
    if path == "/robots.txt":
        return "robots"
    if _DOWNLOAD_RE.match(path):
        return "download"
    if _SCAN_RE.match(path):
        return "preview"
    if _NODE_RE.match(path):
        return "node"
    m = _DOC_RE.match(path)
    if m:
        return "redirect" if m.group(1).isdigit() else "document"
    return "other"


def _html(status: int, text: str, kind: str) -> Response:
    return Response(status, text.encode("utf-8"), HTML, kind=kind)


def _not_found(path: str, kind: str) -> Response:
    return _html(404, render.not_found_page(path), kind)


def route(archive: SampleArchive, method: str, url: str, crawl_delay: float | None) -> Response:
    """The response to `method url` (url is path?query as received)."""
    parts = urlsplit(url)
    path = parts.path
    kind = request_kind(path)
    if method == "POST":
        if path.startswith("/_sec/"):
            return _html(403, render.access_denied_page(), "other")
        return Response(405, b"Method Not Allowed\n", "text/plain", [("Allow", "GET, HEAD")])
    if kind == "robots":
        return Response(200, render.robots_txt(crawl_delay).encode(), "text/plain; charset=UTF-8",
                        kind=kind)
    if kind == "listing":
        page = _page_number(parse_qs(parts.query).get("page", ["0"])[0])
        docs = [
            render.ListingEntry(archive.slug(i), archive.meta(i).title, archive.meta(i).nid,
                                archive.head(i))
            for i in archive.listing(page)
        ]
        last = max(archive.total_pages - 1, 0)
        return _html(200, render.listing_page(docs, page, archive.size, last), kind)
    if kind == "document":
        i = archive.index_of_slug(_DOC_RE.match(path).group(1))  # type: ignore[union-attr]
        return _document(archive, i, path, kind)
    if kind == "node":
        i = archive.index_of_nid(_NODE_RE.match(path).group(1))  # type: ignore[union-attr]
        return _document(archive, i, path, kind)
    if kind == "redirect":
        i = archive.index_of_record(_DOC_RE.match(path).group(1))  # type: ignore[union-attr]
        if i is None:
            return _not_found(path, kind)
        location = f"/document/{archive.slug(i)}"
        return Response(301, b"", HTML, [("Location", location)], kind)
    if kind == "download":
        i = archive.index_of_nid(_DOWNLOAD_RE.match(path).group(1))  # type: ignore[union-attr]
        if i is None or not archive.document(i).has_download:
            return _not_found(path, kind)
        doc = archive.document(i)
        return _pdf(make_pdf(doc.record_id, doc.title, "Translation PDF"), f"{doc.record_id}.pdf",
                    kind)
    if kind == "preview":
        i = archive.index_of_record(_SCAN_RE.match(path).group(1))  # type: ignore[union-attr]
        if i is None or not archive.document(i).has_scan:
            return _not_found(path, kind)
        doc = archive.document(i)
        return _pdf(make_pdf(doc.record_id, doc.title, "Original Scan", 60), None, kind)
    if path in ("/", ""):
        return _html(200, render.home_page(archive.size), kind)
    return _not_found(path, kind)


def _document(archive: SampleArchive, i: int | None, path: str, kind: str) -> Response:
    if i is None:
        return _not_found(path, kind)
    return _html(200, render.document_page(archive.document(i)), kind)


def _pdf(body: bytes, filename: str | None, kind: str) -> Response:
    headers = [("Content-Disposition", f'attachment; filename="{filename}"')] if filename else []
    return Response(200, body, "application/pdf", headers, kind)


def _page_number(value: str) -> int:
    try:
        return max(int(value), 0)
    except ValueError:
        return 0
