"""The Town Minutes look-alike archive, served on loopback for the plugin source's tests.

Newest minutes first, four to a page, pages chained by an opaque `after` token in a
rel=next link (no page numbers, no count). Documents at /m/<slug>, scans at
/scans/<slug>.pdf. `add` publishes new minutes at the top; `remove` takes one down (404).
Every request is counted by path kind (`hits`)."""

from __future__ import annotations

import base64
import collections
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE = 4


@dataclass
class Minute:
    n: int

    @property
    def slug(self) -> str:
        return f"council-{self.n:03d}"

    @property
    def ref(self) -> str:
        return f"TM:{1990 + self.n // 12}/{self.n % 12 + 1:02d}:{self.n:03d}"

    @property
    def day(self) -> str:
        return f"{1990 + self.n // 12}-{self.n % 12 + 1:02d}-{self.n % 27 + 1:02d}"

    def html(self) -> bytes:
        agenda = "".join(f"<li>Item {k} of meeting {self.n}</li>" for k in range(1, 3 + self.n % 3))
        return f"""<!doctype html><html><head><title>Minutes {self.n}</title></head><body>
<header><a href="/">Town Minutes</a><nav><a href="/minutes">All minutes</a></nav></header>
<article class="minute"><h1>Council meeting no. {self.n}</h1>
<p>Reference <span class="ref">{escape(self.ref)}</span></p>
<time class="held" datetime="{self.day}">held {self.day}</time>
<p class="body">Town Council</p><ul class="clerks"><li>Clerk {self.n % 4}</li></ul>
<ul class="topics"><li>Roads</li><li>Budget {self.n % 5}</li></ul>
<ol class="agenda">{agenda}</ol>
<section class="record"><p>The council met at seven.</p><p>Motion {self.n} carried.</p></section>
<a class="scan" href="/scans/{self.slug}.pdf">Scan</a></article>
<footer>Skip to content · Contact</footer></body></html>""".encode()

    def pdf(self) -> bytes:
        return b"%PDF-1.4\n% minutes " + str(self.n).encode() + b"\n%%EOF\n"


@dataclass
class TownMinutesSite:
    minutes: list[Minute] = field(default_factory=list)  # newest first
    hits: collections.Counter[str] = field(default_factory=collections.Counter)
    gone: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # while `hold` is set and not released, listing requests wait (`waiting` counts them):
    # a test starts every worker of a shared crawl before any work is handed out
    hold: threading.Event | None = None
    waiting: int = 0

    @classmethod
    def of(cls, count: int) -> TownMinutesSite:
        return cls([Minute(n) for n in range(count, 0, -1)])

    def add(self, count: int) -> list[Minute]:
        with self.lock:
            top = max(m.n for m in self.minutes)
            new = [Minute(n) for n in range(top + count, top, -1)]
            self.minutes[:0] = new
            return new

    def remove(self, slug: str) -> None:
        with self.lock:
            self.gone.add(slug)
            self.minutes = [m for m in self.minutes if m.slug != slug]

    def listing(self, after: str) -> bytes:
        with self.lock:
            shown = list(self.minutes)
        start = 0
        if after:
            last = int(base64.urlsafe_b64decode(after.encode()).decode())
            start = next((i + 1 for i, m in enumerate(shown) if m.n == last), len(shown))
        page = shown[start:start + PAGE]
        rows = "".join(f'<li class="entry"><a class="open" href="/m/{m.slug}">{m.n}</a></li>'
                       for m in page)
        more = ""
        if start + PAGE < len(shown):
            token = base64.urlsafe_b64encode(str(page[-1].n).encode()).decode()
            more = f'<a rel="next" href="/minutes?after={token}">Older</a>'
        nothing = "" if page else '<p class="nothing">No minutes.</p>'
        return (f'<html><body><aside><a href="/m/{shown[0].slug}">Latest</a></aside>'
                f'<ol class="minutes">{rows}</ol>{nothing}{more}</body></html>').encode()

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        if path == "/robots.txt":
            self.hits["robots"] += 1
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        if path == "/minutes":
            if self.hold is not None:
                with self.lock:
                    self.waiting += 1
                self.hold.wait(timeout=120)
            self.hits["listing"] += 1
            return 200, "text/html; charset=utf-8", self.listing((query.get("after") or [""])[0])
        by_slug = {m.slug: m for m in self.minutes}
        if path.startswith("/m/"):
            self.hits["document"] += 1
            minute = by_slug.get(path[3:])
            if minute is None:
                return 404, "text/html", b"<html><body>Not found</body></html>"
            return 200, "text/html; charset=utf-8", minute.html()
        if path.startswith("/scans/") and path.endswith(".pdf"):
            self.hits["file"] += 1
            minute = by_slug.get(path[len("/scans/"):-4])
            if minute is None:
                return 404, "text/plain", b"gone"
            return 200, "application/pdf", minute.pdf()
        return 404, "text/plain", b"no such page"


@contextmanager
def serve(site: TownMinutesSite) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            status, kind, body = site.answer(parts.path, parse_qs(parts.query))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
