"""SampleServer: the sample archive over HTTP/1.1 on loopback, with faults, stats and controls.

Pages are rendered on demand and kept in a bounded LRU (dropped whenever the
archive changes). Control endpoints live under /_sample/ (see control_api).
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harvester.sample import render
from harvester.sample.control import SampleControl
from harvester.sample.control_api import handle_control
from harvester.sample.corpus import SampleArchive
from harvester.sample.faults import FaultInjector, FaultRule
from harvester.sample.listing_render import ListingStyle
from harvester.sample.oai import SampleOai
from harvester.sample.routes import HTML, Response, request_kind, route
from harvester.sample.stats import RequestStats

_COMPRESSIBLE = ("text/", "application/json")
_REASONS = {503: "Service Unavailable", 429: "Too Many Requests", 500: "Internal Server Error"}


class SampleServer:
    """The sample archive served from a background thread; a context manager.

    >>> with SampleServer(SampleArchive(50)) as server:
    ...     server.base_url   # e.g. http://127.0.0.1:38211
    """

    def __init__(
        self,
        archive: SampleArchive | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        crawl_delay: float | None = None,
        faults: Mapping[str, Mapping[str, Any]] | None = None,
        cache_size: int = 1024,
        gzip_enabled: bool = True,
        listing: ListingStyle | None = None,
        oai: Mapping[str, Any] | None = None,
    ) -> None:
        self.archive = archive if archive is not None else SampleArchive()
        self.crawl_delay = crawl_delay
        self.faults = FaultInjector(faults, seed=self.archive.seed)
        self.stats = RequestStats()
        self.gzip_enabled = gzip_enabled
        self.listing = listing or ListingStyle()
        self.oai = SampleOai(self.archive, oai)  # /oai (switches: harvester.sample.oai_switches)
        self._cache: OrderedDict[tuple[int, str], Response] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sample = self
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SampleServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                name="sample-server", daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until close() (or KeyboardInterrupt)."""
        self._httpd.serve_forever(poll_interval=0.1)

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- switches -----------------------------------------------------------------------------
    def publish(self, k: int = 1) -> list[str]:
        return self.archive.publish(k)

    def edit(self, record_id: int | str, replace_files: bool = False) -> int:
        return self.archive.edit(record_id, replace_files)

    def set_listing(self, style: ListingStyle) -> None:
        """Draw and order the listing another way (markup, featured chrome, sizes, order)."""
        with self._cache_lock:
            self.listing = style
            self._cache.clear()

    def withdraw(self, record_id: int | str, status: int = 404) -> None:
        self.archive.withdraw(record_id, status)

    def restore(self, record_id: int | str) -> None:
        self.archive.restore(record_id)

    def break_site(self, status: int = 404, paths: str = "document") -> None:
        self.archive.break_site(status, paths)

    def mend_site(self) -> None:
        self.archive.mend_site()

    def set_faults(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        self.faults.configure(config)

    def reset_stats(self) -> None:
        self.stats.reset()

    def control(self) -> SampleControl:
        """An HTTP client of this server's control endpoints."""
        return SampleControl(self.base_url)

    # -- serving ------------------------------------------------------------------------------
    def answer(self, method: str, url: str, body: bytes = b"", host: str | None = None
               ) -> Response:
        """The normal response of any page: /oai's from the OAI endpoint (never cached)."""
        if request_kind(url.split("?", 1)[0]) == "oai":
            return self.oai.respond(method, url, body, host, self.base_url)
        return self.response("GET" if method == "HEAD" else method, url)

    def response(self, method: str, url: str) -> Response:
        """The normal (fault-free) response, from the cache when possible."""
        if method == "POST":
            return route(self.archive, method, url, self.crawl_delay, self.listing)
        key = (self.archive.generation, url)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        resp = route(self.archive, method, url, self.crawl_delay, self.listing)
        with self._cache_lock:
            self._cache[key] = resp
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return resp


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sample: SampleServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def close_connections(self, timeout: float = 2.0) -> None:
        """Shut down kept-alive connections so their threads end and close them."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        while self._open and time.monotonic() < deadline:
            time.sleep(0.01)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed after this
    server: _HTTPServer
    _headers_buffer: list[bytes]  # BaseHTTPRequestHandler's, filled by send_header

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle and delayed ACKs
        # cost ~40 ms per keep-alive response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self._serve("POST", body)

    def _serve(self, method: str, body: bytes = b"") -> None:
        sample = self.server.sample
        url = self.path
        if url.startswith("/_sample/") or url == "/_sample":
            status, payload = handle_control(sample, method, url, body)
            self._send(Response(status, payload, "application/json"), method)
            return
        kind = request_kind(url.split("?", 1)[0])
        rule = sample.faults.pick(url, kind)
        if rule is not None:
            sample.stats.fault(rule.kind)
            if self._fault(rule, method, url, kind):
                return
        resp = sample.answer(method, url, body, self.headers.get("Host"))
        self._send(resp, method, account=(kind, url))

    def _fault(self, rule: FaultRule, method: str, url: str, kind: str) -> bool:
        """Serve the fault; False when the normal response should follow (slow)."""
        sample = self.server.sample
        if rule.kind == "slow":
            time.sleep(rule.delay)
            return False
        if rule.kind == "reset":
            sample.stats.record(kind, url, 0, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return True
        if rule.kind == "truncate":
            self._send(sample.answer("GET", url, host=self.headers.get("Host")), method,
                       truncate=True, account=(kind, url))
            return True
        if rule.kind in ("503", "429", "500"):
            status = int(rule.kind)
            headers = [] if status == 500 else [("Retry-After", str(rule.retry_after))]
            page = render.error_page(status, _REASONS[status])
            resp = Response(status, page.encode(), HTML, headers)
        elif rule.kind == "scripted":
            resp = route(sample.archive, "GET", url, sample.crawl_delay,
                         replace(sample.listing, markup="script"))
        elif rule.kind == "challenge":
            resp = Response(200, render.challenge_page(url).encode(), HTML,
                            [("Cache-Control", "no-store")])
        else:  # redirect to another host
            resp = Response(302, b"", HTML, [("Location", rule.location.rstrip("/") + url)])
        self._send(resp, method, account=(kind, url))
        return True

    def _send(
        self, resp: Response, method: str, truncate: bool = False,
        account: tuple[str, str] | None = None,
    ) -> None:
        """Send `resp`; count it first (kind, url) so that stats are current once a client
        has the response."""
        body = resp.body
        encoding = None
        if (
            self.server.sample.gzip_enabled
            and body
            and resp.content_type.startswith(_COMPRESSIBLE)
            and "gzip" in (self.headers.get("Accept-Encoding") or "")
        ):
            if resp.gzipped is None:
                resp.gzipped = gzip.compress(body, compresslevel=5, mtime=0)
            body, encoding = resp.gzipped, "gzip"
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(body)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if resp.content_type.startswith(_COMPRESSIBLE):
            self.send_header("Vary", "Accept-Encoding")
        for name, value in resp.headers:
            self.send_header(name, value)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        if method == "HEAD":
            body = b""
        elif truncate:
            body = body[: len(body) // 2]
        if account is not None:
            self.server.sample.stats.record(account[0], account[1], resp.status, len(body))
        # headers and body in one write (one segment for small responses)
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()
