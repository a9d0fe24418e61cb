"""PDFs and images get a Response class from their Content-Type, without a body scan."""

from __future__ import annotations

from scrapy.http import HtmlResponse, TextResponse
from scrapy.responsetypes import responsetypes as scrapy_types

from harvester import responsetypes


def test_pdfs_and_images_skip_the_body_scan_and_text_is_unchanged(monkeypatch) -> None:
    monkeypatch.setattr(scrapy_types, "classes", dict(scrapy_types.classes))
    scanned = []
    real = scrapy_types.from_body
    monkeypatch.setattr(scrapy_types, "from_body", lambda body: scanned.append(body) or real(body))
    pdf = {b"Content-Type": b"application/pdf"}
    # before: a PDF's body is scanned, and one that looks like text becomes a TextResponse
    assert scrapy_types.from_args(headers=pdf, url="http://e.org/a.pdf", body=b"%PDF-1.4")\
        is TextResponse
    assert len(scanned) == 1
    responsetypes.install()
    for headers in (pdf, {b"Content-Type": b"image/tiff"}):
        cls = scrapy_types.from_args(headers=headers, url="http://e.org/x", body=b"%PDF-1.4")
        assert cls is responsetypes.BinaryResponse and not issubclass(cls, TextResponse)
    assert len(scanned) == 1  # no further scans
    html = scrapy_types.from_args(headers={b"Content-Type": b"text/html"}, url="http://e.org/",
                                  body=b"<html></html>")
    assert html is HtmlResponse
