"""A generated corpus of hostile pages (issue 4), built from the full fixture page."""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wilson"
URL = "https://digitalarchive.wilsoncenter.org/document/hostile"


def valid_page() -> bytes:
    return (FIXTURES / "full-all-fields" / "input.html").read_bytes()


def _sub(old: bytes, new: bytes) -> Callable[[], bytes]:
    return lambda: valid_page().replace(old, new)


def _record_id(value: str) -> Callable[[], bytes]:
    return _sub(b'<div class="text">117029</div>', f'<div class="text">{value}</div>'.encode())


def _deep(depth: int, inside_body: bool) -> bytes:
    nest = b"<div>" * depth + b"deep text" + b"</div>" * depth
    page = valid_page()
    marker = b"<p>Secret, Copy No. 3 (p. 1)</p>" if inside_body else b"<body"
    if inside_body:
        return page.replace(marker, marker + nest)
    return page.replace(b"<main", nest + b"<main", 1)


def _big(size: int) -> bytes:
    paragraph = b"<p>" + b"Lorem ipsum dolor sit amet [sic] (p. 1) " * 20 + b"</p>\n"
    body = paragraph * (size // len(paragraph))
    return valid_page().replace(b"<p>[1] A reference", body + b"<p>[1] A reference")


def _rand(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _truncated(fraction: float) -> bytes:
    page = valid_page()
    return page[: int(len(page) * fraction)]


def _nul_sprinkled() -> bytes:
    page = bytearray(valid_page())
    for i in range(200, len(page), 997):
        page.insert(i, 0)
    return bytes(page)


def _cp1251(declared: bool) -> bytes:
    text = valid_page().decode("utf-8").replace("\u2019", "'").replace("\u2116", "No")
    if not declared:
        text = text.replace('<meta charset="utf-8">', "")
    else:
        text = text.replace('<meta charset="utf-8">', '<meta charset="windows-1251">')
    return text.encode("cp1251", errors="replace")


TITLE_OPEN = b'<h1 class="title">'
INJECT = b"<script>alert('x')</script><img src=x onerror=alert(1)><b>bold</b><iframe src=//e></iframe>"  # noqa: E501

CORPUS: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "whitespace": lambda: b" \n\t \r\n",
    "single-nul": lambda: b"\x00",
    "nuls": lambda: b"\x00" * 4096,
    "random-bytes-small": lambda: _rand(1, 64),
    "random-bytes-large": lambda: _rand(2, 200_000),
    "gzip-page": lambda: gzip.compress(valid_page()),
    "pdf": lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n",
    "png": lambda: b"\x89PNG\r\n\x1a\n" + _rand(3, 500),
    "utf16-with-bom": lambda: valid_page().decode("utf-8").encode("utf-16"),
    "utf16-no-bom": lambda: valid_page().decode("utf-8").encode("utf-16-le"),
    "invalid-utf8": _sub(b"Mao Zedong said", b"Mao \xff\xfe\xc3 Zedong said"),
    "invalid-utf8-everywhere": lambda: valid_page().replace(b"e", b"\xe9"),
    "latin1-declared-utf8-body": _sub(b'<meta charset="utf-8">', b'<meta charset="iso-8859-1">'),
    "unknown-charset": _sub(b'<meta charset="utf-8">', b'<meta charset="x-klingon">'),
    "cp1251-declared": lambda: _cp1251(True),
    "cp1251-undeclared": lambda: _cp1251(False),
    "nul-sprinkled": _nul_sprinkled,
    "truncated-90": lambda: _truncated(0.9),
    "truncated-50": lambda: _truncated(0.5),
    "truncated-10": lambda: _truncated(0.1),
    "no-closing-tags": lambda: valid_page().replace(b"</div>", b"").replace(b"</p>", b""),
    "five-megabytes": lambda: _big(5 * 1024 * 1024),
    "deep-nesting-before-main": lambda: _deep(20_000, False),
    "deep-nesting-in-body": lambda: _deep(20_000, True),
    "deep-mixed-nesting": _sub(b"<main", (b"<div><span><b>" * 7_000) + b"<main"),
    "script-in-title": _sub(TITLE_OPEN, TITLE_OPEN + INJECT),
    "script-in-pills": _sub(b"<span>China</span>", b"<span>China" + INJECT + b"</span>"),
    "script-in-body": _sub(b"<p>Secret, Copy No. 3", b"<p>" + INJECT + b"Secret, Copy No. 3"),
    "escaped-markup-in-title": _sub(TITLE_OPEN, TITLE_OPEN + b"&lt;script&gt;alert(1)&lt;/script&gt;"),  # noqa: E501
    "comment-and-cdata": _sub(TITLE_OPEN, TITLE_OPEN + b"<!-- hidden --><![CDATA[x]]>"),
    "no-title": _sub(b"<h1 class=\"title\">", b"<h2 class=\"subtitle\">"),
    "empty-title": lambda: valid_page().replace(b"Record of Conversation between Mao&nbsp;Zedong and   Soviet Ambassador Pavel Yudin", b"  "),  # noqa: E501
    "no-record-id": _sub(b"<div class=\"sub-title\">Record ID</div>", b"<div class=\"sub-title\">Other</div>"),  # noqa: E501
    "empty-record-id": _record_id("  "),
    "two-record-ids": _sub(b"<div class=\"text\">117029</div>", b"<div class=\"text\">117029</div></div><div class=\"information-block\"><div class=\"sub-title\">Record ID</div><div class=\"text\">999999</div>"),  # noqa: E501
    "record-id-traversal": _record_id("../../etc/passwd"),
    "record-id-slash": _record_id("a/b"),
    "record-id-control-chars": _record_id("1149\x0121"),
    "record-id-newline-entity": _record_id("114921&#10;x"),
    "record-id-dotdot": _record_id("114921..x"),
    "record-id-unicode": _record_id("１１４９２１"),
    "record-id-huge": _record_id("9" * 10_000),
    "impossible-date": _sub(b"March  31, 1956", b"February 30, 1950"),
    "garbage-date": _sub(b"March  31, 1956", b"<b>sometime</b> " * 500),
    "title-20000-chars": _sub(TITLE_OPEN, TITLE_OPEN + b"Long " * 4000),
    "title-100000-chars": _sub(TITLE_OPEN, TITLE_OPEN + b"L" * 100_000),
    "broken-drupal-json": _sub(b'"currentPath":"node\\/88123"', b'"currentPath":{"x":[1,2'),
    "bad-cfemail": lambda: valid_page().replace(b'data-cfemail="', b'data-cfemail="zz'),
    "challenge-in-document-text": _sub(b"<p>Secret, Copy No. 3", b"<p>triggerInterstitialChallenge() /_sec/verify Secret, Copy No. 3"),  # noqa: E501
    "challenge": lambda: (FIXTURES / "challenge-page" / "input.html").read_bytes(),
    "listing": lambda: (FIXTURES / "listing-page" / "input.html").read_bytes(),
    "error-page": lambda: (FIXTURES / "error-page" / "input.html").read_bytes(),
    "plain-text": lambda: b"Just some text, no markup at all.\n" * 100,
    "xml-declaration": lambda: b'<?xml version="1.0" encoding="utf-8"?>' + valid_page(),
    "only-doctype": lambda: b"<!DOCTYPE html>",
    "many-tabs-no-panes": _sub(b'<ul class="nav nav-tabs" role="tablist">', b'<ul class="nav nav-tabs">' + b'<li><a class="nav-link" href="#nope">Translation - X</a></li>' * 500),  # noqa: E501
}
