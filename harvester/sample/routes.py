"""The sample site's URL space: a request path to a response (no HTTP, no faults, no cache)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from harvester.sample import render
from harvester.sample.corpus import SampleArchive
from harvester.sample.listing_render import ListingEntry, ListingStyle, ListingView, listing_page
from harvester.sample.model import SCAN_DIR
from harvester.sample.pdf import make_pdf

# request kinds counted in the stats ("control" requests are not counted)
REQUEST_KINDS = (
    "listing", "document", "node", "redirect", "download", "preview", "robots", "oai", "other",
)

HTML = "text/html; charset=UTF-8"
_DOC_RE = re.compile(r"^/document/([^/]+)$")
# /document/<nid>/download/<record_id>.pdf: the download as the OAI-PMH records link it
_DOWNLOAD_RE = re.compile(r"^/document/(\d+)/download(?:/(\d+)\.pdf)?$")
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
    if path == "/oai":  # served by harvester.sample.oai, not by route()
        return "oai"
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


def route(archive: SampleArchive, method: str, url: str, crawl_delay: float | None,
          listing: ListingStyle | None = None) -> Response:
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
    if archive.broken is not None:  # break_site: every page of that kind answers the status
        status = archive.page_status(None, kind)
        if status != 200:
            return _error(status, path, kind)
    if kind == "listing":
        return _listing(archive, parse_qs(parts.query), listing or ListingStyle())
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
        nid, named = _DOWNLOAD_RE.match(path).groups()  # type: ignore[union-attr]
        i = archive.index_of_nid(nid)
        if i is None or not archive.document(i).has_download or (
                named and named != str(archive.meta(i).record_id)):
            return _not_found(path, kind)
        doc = archive.document(i)
        return _pdf(make_pdf(doc.record_id, doc.title, _revised("Translation PDF", archive, i)),
                    f"{doc.record_id}.pdf", kind)
    if kind == "preview":
        i = archive.index_of_record(_SCAN_RE.match(path).group(1))  # type: ignore[union-attr]
        if i is None or not archive.document(i).has_scan:
            return _not_found(path, kind)
        doc = archive.document(i)
        return _pdf(make_pdf(doc.record_id, doc.title, _revised("Original Scan", archive, i), 60),
                    None, kind)
    if path in ("/", ""):
        return _html(200, render.home_page(archive.size), kind)
    return _not_found(path, kind)


def _listing(archive: SampleArchive, query: dict[str, list[str]], style: ListingStyle) -> Response:
    """/search: `page` (from 0), `items_per_page` (up to the style's maximum, else the
    default size), the order by upload asked with sort_by=created & sort_order=DESC|ASC (or
    sort_bef_combine=created_DESC); unasked, the style's default order (not newest first)."""
    page = _page_number(query.get("page", ["0"])[0])
    per_page = _page_number(query.get("items_per_page", [""])[0]) or style.default_per_page
    if per_page > style.max_per_page:
        per_page = style.default_per_page
    newest_first = style.default_newest_first
    combined = query.get("sort_bef_combine", [""])[0].lower()
    if query.get("sort_by", [""])[0] == "created" or combined.startswith("created_"):
        order = (query.get("sort_order", [""])[0] or combined.rsplit("_", 1)[-1]).upper()
        newest_first = order != "ASC"
    order_all = archive.listing_order(newest_first)

    def entry(i: int) -> ListingEntry:
        meta = archive.meta(i)
        return ListingEntry(archive.slug(i), meta.title, meta.nid, archive.head(i))

    shown = order_all[page * per_page:(page + 1) * per_page]
    oldest = sorted(order_all)[:5]  # the "featured" documents: old ones, on every page
    view = ListingView([entry(i) for i in shown], page, per_page, len(order_all),
                       [entry(i) for i in oldest] if style.featured else [])
    return _html(200, listing_page(view, style), "listing")


def _document(archive: SampleArchive, i: int | None, path: str, kind: str) -> Response:
    if i is None:
        return _not_found(path, kind)
    status = archive.page_status(i, kind)  # a withdrawn document answers 404 or 410
    if status == 301 or (status == 200 and archive.is_withdrawn(i)):  # redirect, soft 404
        if status == 301:
            return Response(301, b"", HTML, [("Location", "/search")], kind)
        return _html(200, render.not_found_page(path), kind)
    if status != 200:
        return _error(status, path, kind)
    return _html(200, render.document_page(archive.document(i)), kind)


def _error(status: int, path: str, kind: str) -> Response:
    if status == 404:
        return _not_found(path, kind)
    return _html(status, render.error_page(status, _ERROR_REASONS.get(status, "Error")), kind)


_ERROR_REASONS = {410: "Gone", 403: "Forbidden", 500: "Internal Server Error",
                  503: "Service Unavailable"}


def _revised(variant: str, archive: SampleArchive, i: int) -> str:
    """A PDF's variant line: "revision N" once an edit replaced the document's PDFs."""
    revision = archive.file_revision(i)
    return f"{variant}, revision {revision}" if revision else variant


def _pdf(body: bytes, filename: str | None, kind: str) -> Response:
    headers = [("Content-Disposition", f'attachment; filename="{filename}"')] if filename else []
    return Response(200, body, "application/pdf", headers, kind)


def _page_number(value: str) -> int:
    try:
        return max(int(value), 0)
    except ValueError:
        return 0
