"""Helpers of the storage tests: S3 stores with fast retries, a fault-injecting S3 front."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from pipelines.storage.s3 import RetryPolicy, S3Options, S3Store

FAST_RETRY = RetryPolicy(attempts=3, max_seconds=5.0, backoff_initial=0.01, backoff_max=0.02)


def make_s3_store(
    endpoint_url: str, bucket: str, prefix: str = "harvest", *,
    retry: RetryPolicy = FAST_RETRY, read_timeout: float = 5.0, list_page_size: int = 7,
) -> S3Store:
    """A store with fast retries and tiny list and delete pages (so paging is exercised)."""
    options = S3Options(endpoint_url=endpoint_url, connect_timeout=1.0, read_timeout=read_timeout,
                        list_page_size=list_page_size, delete_page_size=list_page_size)
    return S3Store(bucket, prefix, options=options, retry=retry)


class FaultyFront:
    """A loopback HTTP front of the moto server that answers scripted faults first.

    `faults` holds (status, code) answers for the next requests, in order;
    with `reject_if_none_match`, a request carrying If-None-Match gets 501
    NotImplemented (an S3-compatible server without conditional writes).
    Everything else is forwarded to moto unchanged; with `serialize`, one
    request at a time: moto checks If-None-Match and then writes without a
    lock, so racing create-only PUTs can both win there (about one run in 15
    of the race test did), where S3 lets exactly one win.
    """

    def __init__(self, upstream: str, *, serialize: bool = False) -> None:
        self.upstream = urlsplit(upstream)
        self._forwarding = threading.Lock() if serialize else None
        self.faults: list[tuple[int, str]] = []
        self.reject_if_none_match = False
        self.seen: list[tuple[str, str, int]] = []  # method, path, status answered
        self._lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # answers "Expect: 100-continue" at once

            def do_GET(self) -> None:
                front.handle(self)

            do_PUT = do_HEAD = do_DELETE = do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is None and self.reject_if_none_match and request.headers.get("If-None-Match"):
            fault = (501, "NotImplemented")
        if fault is not None:
            status, code = fault
            payload = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                       f"<Message>injected</Message></Error>").encode()
            self._answer(request, status, [("Content-Type", "application/xml")], payload)
            return
        if self._forwarding is None:
            self._forward(request, body)
            return
        with self._forwarding:
            self._forward(request, body)

    def _forward(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        conn = http.client.HTTPConnection(self.upstream.hostname or "", self.upstream.port,
                                          timeout=10)
        try:
            conn.request(request.command, request.path, body=body, headers=dict(request.headers))
            response = conn.getresponse()
            payload = response.read()
            dropped = {"transfer-encoding", "connection"}
            if request.command != "HEAD":  # a HEAD answer keeps the object's length
                dropped.add("content-length")
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in dropped]
            self._answer(request, response.status, headers, payload)
        finally:
            conn.close()

    def _answer(self, request: BaseHTTPRequestHandler, status: int,
                headers: list[tuple[str, str]], payload: bytes) -> None:
        with self._lock:
            self.seen.append((request.command, request.path, status))
        request.send_response(status)
        for name, value in headers:
            request.send_header(name, value)
        if request.command != "HEAD" or not any(k.lower() == "content-length" for k, _ in headers):
            request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)
