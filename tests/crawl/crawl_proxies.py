"""An HTTP proxy that rewrites page bodies (a site whose markup changed), for fault tests."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RewritingProxy:
    """An HTTP server that fetches each path from `upstream` and passes the body through
    `rewrite(path, body)`, which returns the new body or (body, extra headers); headers other
    than the content type are not forwarded."""

    def __init__(self, upstream: str, rewrite: Callable[[str, bytes], Any]) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                req = urllib.request.Request(upstream + self.path, headers={"Accept-Encoding": "identity"})
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                try:
                    with opener.open(req, timeout=30) as resp:
                        status, body = resp.status, resp.read()
                        ctype = resp.headers.get("Content-Type", "text/html")
                except urllib.error.HTTPError as err:
                    status, body, ctype = err.code, err.read(), err.headers.get("Content-Type", "")
                    err.close()
                rewritten = proxy.rewrite(self.path, body)
                extra: dict[str, str] = {}
                if isinstance(rewritten, tuple):
                    rewritten, extra = rewritten
                body = rewritten
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.rewrite = rewrite
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
