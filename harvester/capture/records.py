"""warcio records of one fetch: request, response, revisit (identical payload), warcinfo.

The payload digest is sha256 of the body as received (Base32, "sha256:..."), set
here; so is a response's block digest (sha1 of HTTP headers + body, as warcio would
compute it); warcio adds the block digest of the other records when they are written.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders

from harvester.capture.exchange import Exchange

WARC_VERSION = "1.1"


@dataclass(frozen=True)
class PayloadDigest:
    hex: str  # the store's key for it
    warc: str  # as WARC-Payload-Digest: "sha256:" + Base32

    @classmethod
    def of(cls, body: bytes) -> PayloadDigest:
        raw = hashlib.sha256(body).digest()
        return cls(raw.hex(), "sha256:" + base64.b32encode(raw).decode("ascii"))


@dataclass(frozen=True)
class Original:
    """The response record an identical payload refers to."""

    uri: str
    date: str  # its WARC-Date
    record_id: str  # its WARC-Record-ID, "<urn:uuid:...>"


def warc_date(when: datetime) -> str:
    """WARC 1.1 date, UTC with microseconds: 2024-05-01T12:00:00.123456Z."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def builder() -> RecordBuilder:
    return RecordBuilder(warc_version=WARC_VERSION)


def response_record(b: RecordBuilder, ex: Exchange, digest: PayloadDigest) -> Any:
    http = StatusAndHeaders(ex.status_line, list(ex.response_headers), protocol=ex.protocol)
    return b.create_warc_record(
        ex.url, "response", payload=BytesIO(ex.body), length=len(ex.body), http_headers=http,
        warc_headers_dict=_common(ex) | {"WARC-Payload-Digest": digest.warc,
                                         "WARC-Block-Digest": block_digest(http, ex.body)},
    )


def block_digest(http: StatusAndHeaders, body: bytes) -> str:
    """WARC-Block-Digest (sha1, Base32) of the HTTP headers as warcio writes them and the
    body: computed here in one pass, so warcio does not re-read the body in 16 KB chunks
    (each chunk a GIL hand-over between the writer thread and the crawl)."""
    sha1 = hashlib.sha1(http.to_ascii_bytes(None))  # noqa: S324 - the WARC convention
    sha1.update(body)
    return "sha1:" + base64.b32encode(sha1.digest()).decode("ascii")


def revisit_record(b: RecordBuilder, ex: Exchange, digest: PayloadDigest,
                   original: Original) -> Any:
    """A revisit record (identical-payload-digest profile): the HTTP headers, no body."""
    http = StatusAndHeaders(ex.status_line, list(ex.response_headers), protocol=ex.protocol)
    record = b.create_revisit_record(
        ex.url, digest.warc, original.uri, original.date, http_headers=http,
        warc_headers_dict=_common(ex),
    )
    record.rec_headers.add_header("WARC-Refers-To", original.record_id)
    return record


def request_record(b: RecordBuilder, ex: Exchange, concurrent_to: str) -> Any:
    http = StatusAndHeaders(ex.request_line, list(ex.request_headers), is_http_request=True)
    headers = _common(ex) | {"WARC-Concurrent-To": concurrent_to}
    headers.pop("WARC-IP-Address", None)
    return b.create_warc_record(
        ex.url, "request", payload=BytesIO(ex.request_body), length=len(ex.request_body),
        http_headers=http, warc_headers_dict=headers,
    )


def warcinfo_record(b: RecordBuilder, info: dict[str, str]) -> Any:
    return b.create_warcinfo_record("", info)


def record_id(record: Any) -> str:
    return str(record.rec_headers.get_header("WARC-Record-ID"))


def _common(ex: Exchange) -> dict[str, str]:
    headers = {"WARC-Date": warc_date(ex.date)}
    if ex.ip_address:
        headers["WARC-IP-Address"] = ex.ip_address
    return headers
