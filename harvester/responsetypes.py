"""Scrapy's response class for PDFs and images, without sniffing their bodies.

For a Content-Type it has no class for, Scrapy's `responsetypes.from_args` guesses from
the URL and then scans the first 5,000 bytes of the body in a Python generator
(`binary_is_text`), once when the response is built and again after it is decompressed:
3-4% of a backfill's CPU, every document's PDF scanned for control characters only to
end up a plain `Response`. `install()` names the class of PDFs and images (a `Response`
subclass, so nothing that checks for `TextResponse` changes) and the scan is skipped.
"""

from __future__ import annotations

from scrapy.http import Response
from scrapy.responsetypes import responsetypes


class BinaryResponse(Response):
    """A response whose Content-Type says it is a PDF or an image."""


BINARY_TYPES = ("application/pdf", "image/*")


def install() -> None:
    """Register BinaryResponse for BINARY_TYPES (idempotent; keeps a class already set)."""
    for mimetype in BINARY_TYPES:
        responsetypes.classes.setdefault(mimetype, BinaryResponse)
