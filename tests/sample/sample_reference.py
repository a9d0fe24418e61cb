"""A minimal reading of docs/wilson-dom.md, written for the sample archive's own tests.

It checks that the rendered pages carry exactly what the ground truth says,
without depending on the project's extractor (harvester.sites).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urljoin

import lxml.html

LIVE = "https://digitalarchive.wilsoncenter.org"


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


def _text(el: Any) -> str:
    return norm(el.text_content())


def _pills(container: Any) -> list[str]:
    return [_text(name) for name in container.cssselect(".pill .name")]


def _decode_cf(hexstr: str) -> str:
    key = int(hexstr[:2], 16)
    return bytes(int(hexstr[i:i + 2], 16) ^ key for i in range(2, len(hexstr), 2)).decode()


def _pane_lines(pane: Any) -> list[str]:
    lines: list[str] = []
    for el in pane.iterchildren():
        if el.tag == "p":
            lines.append(_text(el))
        elif el.tag in ("ol", "ul"):
            lines.extend(_text(li) for li in el.iterchildren("li"))
        elif el.tag == "table":
            for tr in el.iter("tr"):
                lines.append(" | ".join(_text(c) for c in tr if c.tag in ("td", "th")))
    return [line for line in lines if line]


def parse(html: bytes, files_base: str = LIVE) -> dict[str, Any]:
    root = lxml.html.fromstring(html)
    main = root.cssselect("main")[0]
    settings = json.loads(root.cssselect('script[data-drupal-selector="drupal-settings-json"]')[0]
                          .text)
    nid = settings["path"]["currentPath"].split("/")[1]

    info: dict[str, Any] = {}
    for block in main.cssselect(".information-block"):
        label = _text(block.cssselect(".sub-title")[0]).rstrip(":")
        info[label] = block.cssselect(".text")[0]

    def info_text(label: str) -> str | None:
        return _text(info[label]) if label in info else None

    def info_pills(label: str) -> list[str]:
        return _pills(info[label]) if label in info else []

    rights = None
    if "Rights" in info:
        for span in info["Rights"].cssselect("[data-cfemail]"):
            span.text = _decode_cf(span.get("data-cfemail"))
        rights = "\n".join(_text(p) for p in info["Rights"].cssselect("p"))

    sections: dict[str, list[str]] = {}
    for block in main.cssselect(".pill-block"):
        heading = block.cssselect("h3.title, h4.title")[0]
        sections[_text(heading)] = _pills(block)

    authors: list[str] = []
    for h2 in main.cssselect("h2.title"):
        if _text(h2) == "Author(s):":
            authors = _pills(h2.getnext())

    texts, files = [], []
    labels = main.cssselect("#documentTabs .nav-tabs .nav-link")
    panes = main.cssselect("#documentTabs .tab-pane")
    for label_el, pane in zip(labels, panes, strict=True):  # ids may not match: by position
        label = _text(label_el)
        for el in pane.iter():
            if el.get("class") == "pdf-preview":
                files.append(urljoin(files_base + "/", el.get("data")))
            if el.tag == "a" and (el.get("href") or "").endswith("/download"):
                files.append(urljoin(files_base + "/", el.get("href")))
        lines = _pane_lines(pane)
        if lines:
            kind = label.split(" - ")[0].split()[0].lower()
            language = label.split(" - ", 1)[1] if " - " in label else None
            texts.append({"kind": kind, "language": language, "text": "\n".join(lines)})

    def first(selector: str) -> str | None:
        found = main.cssselect(selector)
        return _text(found[0]) if found else None

    return {
        "site": "wilson",
        "record_id": info_text("Record ID"),
        "node_id": nid,
        "url": root.cssselect('link[rel="canonical"]')[0].get("href"),
        "title": first(".content-block h1.title"),
        "date_text": first(".content-block .date"),
        "summary": first(".text-block"),
        "texts": texts,
        "authors": authors,
        "places": sections.get("Associated Places", []),
        "subjects": sections.get("Subjects Discussed", []),
        "people": sections.get("Associated People & Organizations", []),
        "source": info_text("Source"),
        "original_archive": info_pills("Original Archive"),
        "rights": rights,
        "uploaded": info_text("Original Uploaded Date"),
        "type": info_text("Type"),
        "languages": info_pills("Language"),
        "classification": info_text("Original Classification") or first(".classification"),
        "donors": info_pills("Donors"),
        "credits": first(".donated"),
        "files": [
            {"url": u, "key": None, "sha256": None, "size": None, "content_type": None}
            for u in dict.fromkeys(files)
        ],
    }


def listing_links(html: bytes, base: str) -> tuple[list[str], str | None, str | None]:
    """(document URLs, next page URL, results count text) of a listing page drawn as the
    live striped table; the next page is the page number after `base`'s while the count
    ("Results: 21 - 30 of 81") says more results follow."""
    root = lxml.html.fromstring(html)
    links = [
        urljoin(base, a.get("href"))
        for a in root.cssselect("td.document a[href*='/document/']")
        if not a.get("href").endswith("/download")
    ]
    count = root.cssselect(".result-info")
    text = _text(count[0]) if count else None
    nxt = None
    shown = re.search(r"(\d+) - (\d+) of (\d+)", text or "")
    if shown and int(shown.group(2)) < int(shown.group(3)):
        page = int(re.search(r"[?&]page=(\d+)", base).group(1)) if "page=" in base else 0
        nxt = re.sub(r"([?&]page=)\d+", rf"\g<1>{page + 1}", base) if "page=" in base \
            else f"{base}{'&' if '?' in base else '?'}page={page + 1}"
    return links, nxt, text
