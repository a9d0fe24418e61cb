"""A tiny archive site on loopback, and a crawl of it in a subprocess with WarcCapture on.

Pages are sent gzip-encoded (fixed gzip bytes, so a test can compare the wire
bytes), one page chunked, plus a PDF and a listing page.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE = "capturetest"
CRAWL_SCRIPT = Path(__file__).with_name("capture_crawl.py")
ROOT = Path(__file__).resolve().parents[2]

PAGES = {
    f"/doc/{n}": (f"<html><head><title>Doc {n}</title></head><body><p>Telegram {n}: "
                  + "words " * (200 + n * 30) + "</p></body></html>").encode()
    for n in (1, 2)
}
CHUNKED_PAGE = ("/doc/3", b"<html><body><p>" + b"chunked text " * 300 + b"</p></body></html>")
PDF = ("/files/3.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
LISTING = ("/list", b"<html><body><a href='/doc/1'>1</a></body></html>")


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body, mtime=0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path in PAGES:
            self._send(gzipped(PAGES[self.path]), "text/html; charset=utf-8", gzip_encoded=True)
        elif self.path == CHUNKED_PAGE[0]:
            self._send_chunked(CHUNKED_PAGE[1])
        elif self.path == PDF[0]:
            self._send(PDF[1], "application/pdf")
        elif self.path == LISTING[0]:
            self._send(LISTING[1], "text/html")
        else:
            self._send(b"not found", "text/plain", status=404)

    def _send(self, body: bytes, ctype: str, *, gzip_encoded: bool = False,
              status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("content-length", str(len(body)))  # lower case on the wire
        if gzip_encoded:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(body)

    def _send_chunked(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), 1000):
            piece = body[start:start + 1000]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def serve() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class CrawlResult:
    stats: dict[str, object]
    run_id: str


def crawl(base_url: str, store: str, tmp: Path, *, max_bytes: int = 100 * 1024 * 1024,
          env: dict[str, str] | None = None) -> CrawlResult:
    """Crawl the test site in a fresh process (a reactor runs once per process)."""
    out = tmp / f"stats-{len(list(tmp.glob('stats-*')))}.json"
    settings = {
        "HARVESTER_STORE": store, "HARVESTER_SPOOL_DIR": str(tmp / "spool"),
        "HARVESTER_WARC_MAX_BYTES": max_bytes, "HARVESTER_WARC_TMP_DIR": str(tmp / "warc-tmp"),
    }
    proc = subprocess.run(
        [sys.executable, str(CRAWL_SCRIPT), base_url, json.dumps(settings), str(out)],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    return CrawlResult(stats=data["stats"], run_id=data["run_id"])


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    warcio = Path(sys.executable).with_name("warcio")
    return subprocess.run([str(warcio), "check", "-v", str(path)], capture_output=True,
                          text=True, timeout=30, check=False)
