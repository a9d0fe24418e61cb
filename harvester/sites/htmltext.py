"""HTML parsing and element-to-text for every site: lxml only, no recursion in Python.

`parse_html` turns decoded page text into an lxml tree (recovering from hostile nesting
depth); `element_lines` walks an element iteratively (lxml's iterwalk) and returns its text
as whitespace-normalised lines: block elements and <br> break lines, table cells are joined
with " | " on one line per row, and script/style/forms/embedded objects are skipped.
"""

from __future__ import annotations

import re

import lxml.etree as etree

from harvester.cleaners import normalize_space

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "center", "dd", "details",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "footer", "hr", "li", "main", "ol", "p", "pre", "section",
        "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
    }
)
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "iframe", "object", "embed", "svg",
        "canvas", "video", "audio", "button", "form", "select", "input", "textarea", "head",
        "title", "meta", "link",
    }
)
CELL_TAGS = frozenset({"td", "th"})
CELL_SEPARATOR = " | "
_EMPTY_ROW = re.compile(r"^[|\s]*$")
_SOURCE_BREAKS = re.compile("[\r\n\u2028\u2029\x0b\x0c\x85]+")  # layout of the HTML source
# Structural line breaks are written as NUL while walking (decoded pages hold no NUL), so
# that the source's own line breaks can be turned into spaces in one pass at the end.
_BREAK = "\x00"
# One pass each at the end: characters dropped (invisible, control; not the NUL breaks),
# then every run of blanks and source line breaks becomes one space.
_DROP = re.compile(
    "[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\x01-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]"
)
_SPACES = re.compile("[ \t\r\n\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x85]+")
# A run of this many opening tags with nothing between them is hostile nesting, not a page.
_TAG_RUN = re.compile(rb"(?:<[A-Za-z][^<>]{0,200}>\s*){200,}|(?:</[A-Za-z][^<>]{0,50}>\s*){200,}")


def _parser() -> etree.HTMLParser:
    # etree's parser, not lxml.html's: plain elements, no Python class lookup per element.
    return etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)


def parse_html(text: str) -> etree._Element | None:
    """The page's root element, or None when the text holds no HTML at all."""
    data = text.encode("utf-8", errors="replace")
    parser = _parser()
    root = etree.fromstring(data, parser)
    if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in parser.error_log):
        # libxml2 stops at its depth limit and drops the rest of the page: drop runs of
        # opening tags and runs of closing tags (the usual shape of such pages), parse again.
        parser = _parser()
        root = etree.fromstring(_TAG_RUN.sub(b"", data), parser)
    return root


def class_index(root: etree._Element) -> dict[str, list[etree._Element]]:
    """Elements by class token, in document order: one pass over the tree. (An XPath class
    test reads every element's attributes, about 0.3 ms a scan on a 40 KB page; a dozen such
    scans would dominate extraction.)"""
    index: dict[str, list[etree._Element]] = {}
    for element in root.iter(etree.Element):  # elements only (no comments / PIs)
        value = element.get("class")
        if value:
            for token in value.split():
                if token in index:
                    index[token].append(element)
                else:
                    index[token] = [element]
    return index


def _classes(element: etree._Element) -> set[str]:
    value = element.get("class")
    return set(value.split()) if value else set()


def element_lines(
    root: etree._Element, skip_classes: frozenset[str] = frozenset()
) -> list[str]:
    """The element's text as normalised, non-empty lines (see module docstring)."""
    parts: list[str] = []
    rows: list[int] = []  # cells seen so far in each open <tr>
    in_cell = 0
    in_pre = 0
    had_cells = False
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if not isinstance(tag, str):  # comments / processing instructions
            if event == "end" and element is not root and element.tail:
                parts.append(element.tail)
            continue
        tag = tag.lower()
        if event == "start":
            if element is not root and (
                tag in SKIP_TAGS
                or (skip_classes and not skip_classes.isdisjoint(_classes(element)))
            ):
                walker.skip_subtree()
                continue
            if tag in CELL_TAGS:
                had_cells = True
                if rows:
                    if rows[-1]:
                        parts.append(CELL_SEPARATOR)
                    rows[-1] += 1
                in_cell += 1
            elif tag == "tr":
                rows.append(0)
                parts.append(_BREAK)
            elif tag in BLOCK_TAGS or tag == "br":
                parts.append(" " if in_cell else _BREAK)
            if tag == "pre":
                in_pre += 1
            if element.text:
                parts.append(_pre(element.text) if in_pre else element.text)
        else:
            if tag in CELL_TAGS:
                in_cell = max(0, in_cell - 1)
            elif tag == "tr":
                if rows:
                    rows.pop()
                parts.append(_BREAK)
            elif tag in BLOCK_TAGS:
                parts.append(" " if in_cell else _BREAK)
            if tag == "pre":
                in_pre = max(0, in_pre - 1)
            if element is not root and element.tail:
                parts.append(_pre(element.tail) if in_pre else element.tail)
    text = _SPACES.sub(" ", _DROP.sub("", "".join(parts))).replace(_BREAK, "\n")
    lines = [line for line in (raw.strip() for raw in text.split("\n")) if line]
    return [line for line in lines if not _EMPTY_ROW.match(line)] if had_cells else lines


def _pre(text: str) -> str:
    """Text inside <pre>: its line breaks are structure."""
    return _SOURCE_BREAKS.sub(_BREAK, text.replace("\x00", ""))


def element_text(root: etree._Element, skip_classes: frozenset[str] = frozenset()) -> str:
    """The element's text on one line, whitespace-normalised."""
    return normalize_space(" ".join(element_lines(root, skip_classes)))
