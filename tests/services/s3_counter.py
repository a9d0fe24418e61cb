"""A counting S3 proxy on loopback: every request the harvester makes, by operation and kind
(used by tests and by bench/).

    with CountingProxy(upstream_url, bucket="b", prefix="h/") as proxy:
        ... AWS_ENDPOINT_URL=proxy.url ...
        proxy.counts()   -> Counter({("PUT", "records"): 200, ("GET", "state/seen"): 3, ...})

It sits between the harvester and the S3 server, so it counts from outside what reaches the
server, whatever the client library does. Requests are relayed unchanged (keep-alive on
both sides). The kind of an object request is the store key's first folder, with the
`state/<site>/` folders told apart (`state/seen`, `state/changes`, `state/failed`,
`state/backfill.json`, ...); a listing (ListObjectsV2) is counted under the prefix it lists.
Requests outside `bucket/prefix` (bucket creation) count as kind "other".
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def classify(method: str, target: str, bucket: str, prefix: str) -> tuple[str, str]:
    """(operation, kind) of one S3 request line."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    path = unquote(parts.path).lstrip("/")
    name, _, key = path.partition("/")
    if name != bucket:
        return method, "other"
    if method == "GET" and "list-type" in query:
        return "LIST", key_kind((query.get("prefix") or [""])[0], prefix)
    if method == "POST" and "delete" in query:
        return "DELETE-MANY", "batch"
    op = {"GET": "GET", "PUT": "PUT", "HEAD": "HEAD", "DELETE": "DELETE"}.get(method, method)
    return op, key_kind(key, prefix)


def key_kind(key: str, prefix: str) -> str:
    """The kind of a store key: its top folder, `state/<folder>` under state/<site>/."""
    if not key.startswith(prefix):
        return "other"
    rest = key[len(prefix):].split("/")
    top = rest[0]
    if top == "state" and len(rest) >= 3 and rest[2]:
        return f"state/{rest[2]}"  # state/<site>/<folder or object>
    return top or "(root)"


class CountingProxy:
    def __init__(self, upstream: str, *, bucket: str, prefix: str = "") -> None:
        self.upstream = urlsplit(upstream)
        self.bucket = bucket
        self.prefix = prefix
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.conn: http.client.HTTPConnection | None = None

            def do_GET(self) -> None:
                proxy._relay(self)

            do_PUT = do_HEAD = do_DELETE = do_POST = do_GET

            def finish(self) -> None:
                if self.conn is not None:
                    self.conn.close()
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def counts(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def _relay(self, request: Any) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        with self._lock:
            self._counts[classify(request.command, request.path, self.bucket,
                                  self.prefix)] += 1
        for attempt in (1, 2):  # a kept-alive upstream connection the server closed: again
            if request.conn is None:
                request.conn = http.client.HTTPConnection(self.upstream.hostname or "",
                                                          self.upstream.port, timeout=60)
            try:
                request.conn.request(request.command, request.path, body=body,
                                     headers=dict(request.headers))
                response = request.conn.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, OSError):
                request.conn.close()
                request.conn = None
                if attempt == 2:
                    raise
        dropped = {"transfer-encoding", "connection", "keep-alive"}
        if request.command != "HEAD":
            dropped.add("content-length")
        request.send_response(response.status)
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in dropped]
        for name, value in headers:
            request.send_header(name, value)
        if request.command != "HEAD" or not any(k.lower() == "content-length"
                                                for k, _ in headers):
            request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)


def table(counts: Counter[tuple[str, str]], per: int | None = None) -> list[str]:
    """Lines "OP kind  n  (n/per)", most requests first, and the total."""
    lines = []
    for (op, kind), n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        share = f"  {n / per:6.3f}/doc" if per else ""
        lines.append(f"  {op:<11} {kind:<22} {n:6d}{share}")
    total = sum(counts.values())
    share = f"  {total / per:6.3f}/doc" if per else ""
    lines.append(f"  {'total':<34} {total:6d}{share}")
    return lines
