"""A second, independent look-alike of the live Wilson Center Digital Archive.

A threaded HTTP server on 127.0.0.1 (a port of its own) serving the corpus of
lookalike_corpus.py as lookalike_render.py draws it, with switches the tests flip while it
runs: publish new uploads, edit or withdraw documents, 404 everywhere, a listing drawn by
script, per-path faults (503/429 with Retry-After in seconds or as an HTTP-date, challenge
pages, slow answers), the listing markup, pager, count and side blocks. Every request is
logged, so tests count what the harvester asked for.

    with LookalikeSite(size=40, markup="grid") as site:
        site.base_url           # http://127.0.0.1:PORT
        site.publish(5); site.withdraw(rid, 410); site.faults["/document/x"] = ["503s", "challenge"]
"""

from __future__ import annotations

import gzip
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lookalike_corpus import Corpus, Doc
from lookalike_render import challenge_page, document_page, listing_page, pdf_bytes

DEFAULT_PER_PAGE = 10
ALLOWED_PER_PAGE = (10, 25, 50, 100)  # the exposed form offers these; others give 10, more the most


@dataclass
class Hit:
    method: str
    path: str
    query: str
    status: int

    @property
    def kind(self) -> str:
        if self.path == "/robots.txt":
            return "robots"
        if self.path == "/search":
            return "listing"
        if self.path.endswith("/download") or self.path.endswith(".pdf"):
            return "file"
        if self.path.startswith(("/document/", "/node/")):
            return "document"
        return "other"


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on a slow page: nothing to report


class LookalikeSite:
    def __init__(self, size: int = 40, *, markup: str = "table", seed: int = 1950,
                 max_per_page: int = 100, pager: bool = True, count: bool = True,
                 related: bool = False, crawl_delay: float = 0.0) -> None:
        self.corpus = Corpus(size, seed)
        self.markup = markup
        self.max_per_page = max_per_page
        self.pager = pager
        self.count = count
        self.related = related
        self.crawl_delay = crawl_delay
        self.script = ""  # "" | "body" | "all": the listing drawn by script
        self.links = ""  # "" (the markup's own) | "alias" | "node" | "mixed": how results link
        self.everything_404 = False
        self.documents_404 = False  # document pages (and files) 404, the listing still lists them
        self.empty_listing = False  # the search index is empty: "No results found", pages still served
        self.ghosts: list[int] = []  # listing positions of index entries that render no row
        self.past_end = "empty"  # a page past the last: "empty" | "clamp" (the last page again) | "404"
        self.tie_seconds = 0  # >0: uploads within this many seconds tie, ties in a random order
        self.node_redirect = False  # /node/NID answers 301 to /document/<slug>
        self.on_listing: dict[int, Callable[[], object]] = {}  # page -> called once before it is drawn
        self._listing_serial = 0
        self.gone: dict[str, int] = {}  # record_id -> 404 | 410
        self.faults: dict[str, list[Any]] = {}  # path (or "listing:N") -> actions, used in order
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- switches ---------------------------------------------------------------------
    def publish(self, k: int) -> list[Doc]:
        with self.lock:
            return self.corpus.publish(k)

    def edit(self, record_id: str) -> Doc:
        with self.lock:
            doc = self.corpus.by_record_id(record_id)
            doc.edits += 1
            doc.summary = f"{doc.summary or 'A document'} (revised {doc.edits})"
            return doc

    def withdraw(self, record_id: str, status: int) -> None:
        with self.lock:
            self.gone[record_id] = status

    # --- views of the corpus ------------------------------------------------------------
    def live_docs(self) -> list[Doc]:
        return [d for d in self.corpus.docs if d.record_id not in self.gone]

    def old_docs(self) -> list[Doc]:
        """The oldest uploads, linked from chrome and side blocks."""
        return sorted(self.corpus.docs, key=lambda d: d.created)[:14]

    def expected(self) -> dict[str, dict[str, Any]]:
        return {d.record_id: d.expected() for d in self.live_docs()}

    def requests(self, kind: str | None = None) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if kind is None or h.kind == kind]

    def reset_log(self) -> None:
        with self.lock:
            self.hits.clear()

    # --- server -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LookalikeSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                site._handle(self, "GET")

            def do_HEAD(self) -> None:  # noqa: N802
                site._handle(self, "HEAD")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                site._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # --- routing ------------------------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(req.path)
        path, query = url.path, url.query
        try:
            status, headers, body = self._route(method, path, query)
        except Exception as exc:  # a bug of the look-alike: say so loudly
            status, headers, body = 500, {"Content-Type": "text/plain"}, repr(exc).encode()
        with self.lock:
            self.hits.append(Hit(method, path, query, status))
        if ("gzip" in (req.headers.get("Accept-Encoding") or "") and len(body) > 1024
                and headers.get("Content-Type", "").startswith("text/html")):
            body = gzip.compress(body, 5)
            headers = {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        req.send_response(status)
        for name, value in headers.items():
            req.send_header(name, value)
        req.send_header("Content-Length", str(len(body)))
        try:
            req.end_headers()
            if method != "HEAD":
                req.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            req.close_connection = True

    def _fault(self, key: str) -> tuple[int, dict[str, str], bytes] | None:
        with self.lock:
            actions = self.faults.get(key)
            action = actions.pop(0) if actions else None
        if action is None:
            return None
        if isinstance(action, tuple) and action[0] == "slow":
            time.sleep(action[1])
            return None
        if action == "challenge":
            return 200, {"Content-Type": "text/html; charset=UTF-8", "Cache-Control": "no-store"}, \
                challenge_page().encode()
        # "503s"/"429s": Retry-After 1 (seconds); "503d"/"429d": an HTTP-date 1 s ahead;
        # "503h": an hour (beyond any cap); "503x": a Retry-After that is neither
        status = 429 if action.startswith("429") else 503
        retry = {"d": formatdate(time.time() + 1, usegmt=True), "h": "3600",
                 "x": "soon"}.get(action[-1], "1")
        return status, {"Content-Type": "text/html", "Retry-After": retry}, \
            b"<html><body><h1>Service Unavailable</h1></body></html>"

    def _route(self, method: str, path: str, query: str) -> tuple[int, dict[str, str], bytes]:
        html_type = {"Content-Type": "text/html; charset=UTF-8"}
        if self.everything_404:
            return 404, html_type, b"<html><body><h1>Page not found</h1></body></html>"
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, self._robots().encode()
        if path == "/_sec/verify" and method == "POST":
            return 200, {"Content-Type": "application/json", "Set-Cookie": "bm_sv=ok; Path=/"}, \
                b'{"success": true}'
        if path == "/search":
            page = int((parse_qs(query).get("page") or ["0"])[0])
            fault = self._fault(f"listing:{page}")
            if fault:
                return fault
            status, text = self._listing(query)
            return status, html_type, text.encode()
        fault = self._fault(path)
        if fault:
            return fault
        if self.documents_404:
            return 404, html_type, b"<html><body><h1>Page not found</h1></body></html>"
        with self.lock:
            docs = list(self.corpus.docs)
        doc = self._find(path, docs)
        if doc is None:
            return 404, html_type, b"<html><body><h1>Page not found</h1></body></html>"
        if doc.record_id in self.gone:
            code = self.gone[doc.record_id]
            return code, html_type, f"<html><body><h1>{code}</h1></body></html>".encode()
        if self.node_redirect and path.startswith("/node/"):
            return 301, {"Location": self.base_url + doc.path, "Content-Type": "text/html"}, b""
        if path.endswith("/download"):
            return 200, {"Content-Type": "application/pdf",
                         "Content-Disposition": f'attachment; filename="{doc.record_id}.pdf"'}, \
                pdf_bytes(f"download {doc.record_id}")
        if path.endswith(".pdf"):
            return 200, {"Content-Type": "application/pdf"}, pdf_bytes(path.rsplit("/", 1)[1])
        with self.lock:
            body = document_page(doc, self.base_url, self.old_docs())
        return 200, html_type, body.encode()

    def _find(self, path: str, docs: Sequence[Doc]) -> Doc | None:
        for doc in docs:
            if path == doc.path or path == f"/node/{doc.nid}" or path == f"/document/{doc.nid}/download":
                return doc
            if path.endswith(".pdf") and path in doc.file_paths():
                return doc
        return None

    def _robots(self) -> str:
        return ("#\n# robots.txt (Drupal)\n#\nUser-agent: *\n"
                f"Crawl-delay: {self.crawl_delay:g}\n"
                "# CSS, JS, Images\nAllow: /core/*.css$\nAllow: /core/*.js$\n"
                "# Directories\nDisallow: /core/\nDisallow: /profiles/\n"
                "# Paths (clean URLs)\nDisallow: /admin/\nDisallow: /comment/reply/\n"
                "Disallow: /filter/tips\nDisallow: /node/add/\nDisallow: /search/\n"
                "Disallow: /user/register\nDisallow: /user/password\nDisallow: /user/login\n"
                "Disallow: /user/logout\n# Paths (no clean URLs)\nDisallow: /index.php/admin/\n"
                "Disallow: /index.php/search/\n")

    def _listing(self, query: str) -> tuple[int, str]:
        q = parse_qs(query)
        page = int((q.get("page") or ["0"])[0])
        try:
            asked = int((q.get("items_per_page") or [str(DEFAULT_PER_PAGE)])[0])
        except ValueError:
            asked = DEFAULT_PER_PAGE
        if asked > self.max_per_page:
            per_page = self.max_per_page
        else:
            per_page = asked if asked in ALLOWED_PER_PAGE else DEFAULT_PER_PAGE
        combine = (q.get("sort_bef_combine") or [""])[0]
        sort_by = (q.get("sort_by") or [""])[0] or combine.rsplit("_", 1)[0]
        order = (q.get("sort_order") or [""])[0] or (combine.rsplit("_", 1)[1] if "_" in combine else "")
        hook = self.on_listing.pop(page, None)
        if hook is not None:
            hook()
        with self.lock:
            live = [] if self.empty_listing else list(self.live_docs())
            old = self.old_docs()
            self._listing_serial += 1
            shuffle = random.Random(self._listing_serial).random
        if sort_by == "created":
            gran = self.tie_seconds or 1
            # equal upload times (bulk imports) come back in an order of the moment, as a
            # database gives rows that tie on the sort key
            live.sort(key=lambda d: (d.created // gran, shuffle() if self.tie_seconds else d.nid),
                      reverse=order.upper() != "ASC")
        else:  # the default order: by title, then node id (NOT newest first)
            live.sort(key=lambda d: (d.title.lower(), d.nid), reverse=order.upper() == "DESC")
        docs: list[Doc | None] = list(live)
        for position in sorted(self.ghosts):  # index entries that no longer load: counted, no row
            docs.insert(min(position, len(docs)), None)
        total = len(docs)
        pages = max(1, (total + per_page - 1) // per_page)
        if page >= pages and total:
            if self.past_end == "404":
                return 404, "<html><body><h1>Page not found</h1></body></html>"
            if self.past_end == "clamp":  # Drupal's pager shows the last page instead
                page = pages - 1
        keep = "&amp;".join(f"{k}={v[0]}" for k, v in sorted(q.items()) if k != "page")
        chunk = [d for d in docs[page * per_page:(page + 1) * per_page] if d is not None]
        return 200, listing_page(chunk, markup=self.markup, page=page, per_page=per_page, total=total,
                                 old=old, query=keep, pager=self.pager, count=self.count,
                                 related=self.related, script=self.script, links=self.links)
