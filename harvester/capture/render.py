"""`render_fetch`: a fetch's response and request records as gzip bytes, ready to append.

A pure function of the `Exchange`, so it runs in the extraction worker process
(harvester/extractpool.py): building records with warcio and compressing them is most of a
capture's CPU, and in the WARC writer thread it fought the reactor thread for the GIL (a
2,000-document backfill ran 23 s without captures and 28-31 s with them). The writer
thread then only decides between this rendering and a revisit record, and appends bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from harvester.capture.exchange import Exchange
from harvester.capture.records import (
    WARC_VERSION,
    Original,
    PayloadDigest,
    builder,
    record_id,
    request_record,
    response_record,
    warc_date,
)
from harvester.capture.rolling import LevelGzipWARCWriter


@dataclass(frozen=True)
class Rendered:
    digest: PayloadDigest
    original: Original  # the response record, for revisits of the same payload later
    data: bytes  # the response record and the request record, one gzip member each


def render_fetch(ex: Exchange, gzip_level: int = 6,
                 digest: PayloadDigest | None = None) -> Rendered:
    """The records of one fetch as a full capture (response + request); `digest`: the
    body's, when the caller computed it already."""
    b = builder()
    digest = digest or PayloadDigest.of(ex.body)
    first = response_record(b, ex, digest)
    out = BytesIO()
    writer = LevelGzipWARCWriter(out, level=gzip_level, warc_version=WARC_VERSION)
    writer.write_record(first)
    writer.write_record(request_record(b, ex, record_id(first)))
    return Rendered(digest, Original(ex.url, warc_date(ex.date), record_id(first)),
                    out.getvalue())
