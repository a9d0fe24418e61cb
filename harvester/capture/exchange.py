"""`Exchange`: one HTTP fetch as plain values, and how it is read from Scrapy objects.

Scrapy keeps less than the wire: header names come title-cased by its `Headers`
class ("content-type" arrives as "Content-Type"), the reason phrase of the status
line is not kept (the standard phrase for the code is written instead), a chunked
body arrives de-chunked (its Transfer-Encoding header is renamed, see
`wire_headers`), and the request's Host header is added by Twisted below Scrapy
(it is rebuilt from the URL). Bodies are taken before the downloader middlewares
run, so a gzip/deflate/br Content-Encoding is kept as the server sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

# Header renamed in captures: its body is stored de-chunked (WARC practice).
TRANSFER_ENCODING = "transfer-encoding"
RENAMED_TRANSFER_ENCODING = "X-Archive-Orig-Transfer-Encoding"

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Exchange:
    url: str
    method: str
    request_headers: Headers
    request_body: bytes
    protocol: str  # e.g. "HTTP/1.1"
    status: int
    response_headers: Headers
    body: bytes  # the payload as received: content-encoding kept, transfer-encoding removed
    ip_address: str | None
    date: datetime  # UTC, when the response was received

    @property
    def request_line(self) -> str:
        parts = urlsplit(self.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return f"{self.method} {target} {self.protocol}"

    @property
    def status_line(self) -> str:
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = ""
        return f"{self.status} {reason}".rstrip()


def header_pairs(headers: Any) -> Headers:
    """(name, value) pairs of a Scrapy `Headers`, every value of repeated headers kept."""
    pairs: Headers = []
    for name in headers:
        text = _text(name)
        pairs.extend((text, _text(value)) for value in headers.getlist(name))
    return pairs


def wire_headers(pairs: Headers) -> Headers:
    """Response headers as stored: Transfer-Encoding renamed, the body being de-chunked."""
    return [(RENAMED_TRANSFER_ENCODING if name.lower() == TRANSFER_ENCODING else name, value)
            for name, value in pairs]


def request_headers_with_host(url: str, pairs: Headers) -> Headers:
    """The request's headers with Host first when Scrapy did not set one (Twisted does)."""
    if any(name.lower() == "host" for name, _ in pairs):
        return pairs
    return [("Host", urlsplit(url).netloc), *pairs]


def exchange_from(request: Any, response: Any, date: datetime) -> Exchange:
    """The Exchange of a Scrapy request and the response its download gave."""
    protocol = response.protocol or "HTTP/1.1"
    ip = response.ip_address
    return Exchange(
        url=response.url,
        method=request.method,
        request_headers=request_headers_with_host(response.url, header_pairs(request.headers)),
        request_body=request.body or b"",
        protocol=protocol if protocol.upper().startswith("HTTP/") else "HTTP/1.1",
        status=int(response.status),
        response_headers=wire_headers(header_pairs(response.headers)),
        body=response.body,
        ip_address=str(ip) if ip is not None else None,
        date=date,
    )


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
