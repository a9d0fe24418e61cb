"""HTML parsing and element-to-text for every site: lxml only, no recursion in Python.

`parse_html` turns decoded page text into an lxml tree (recovering from hostile nesting
depth); `element_lines` walks an element iteratively (lxml's iterwalk) and returns its text
as whitespace-normalised lines: block elements and <br> break lines, table cells are joined
with " | " on one line per row, and script/style/forms/embedded objects are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator

import lxml.etree as etree

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
# Inline tags that change nothing but add their text (any tag not named in _KINDS is too).
_PLAIN = frozenset({"a", "span", "em", "strong", "b", "i", "u", "sup", "sub", "small", "abbr",
                    "cite", "code", "q", "s", "mark", "font", "time", "label"})
# Leaves whose text is read by the full walk (cells, rows and <pre> change how).
_LEAF_SPECIAL = frozenset({"td", "th", "tr", "pre"})
LEAF_SPECIAL = _LEAF_SPECIAL  # (a caller's own leaf test: leaf_text is a leaf's text but theirs)
CELL_SEPARATOR = " | "
_EMPTY_ROW = re.compile(r"^[|\s]*$")
_SOURCE_BREAKS = re.compile("[\r\n\u2028\u2029\x0b\x0c\x85]+")  # layout of the HTML source
# Structural line breaks are written as NUL while walking (decoded pages hold no NUL), so
# that the source's own line breaks can be turned into spaces in one pass at the end.
_BREAK = "\x00"
# At the end: characters dropped in one pass (invisible, control; not the NUL breaks), then
# in each line every run of blanks and source line breaks becomes one space: the blanks are
# " \t\r\n\f\v", NBSP, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 and
# U+0085, which are exactly what str.split() splits on once _DROP has run.
_DROP = re.compile(
    "[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\x01-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]"
)
# A run of this many opening tags with nothing between them is hostile nesting, not a page.
_TAG_RUN = re.compile(rb"(?:<[A-Za-z][^<>]{0,200}>\s*){200,}|(?:</[A-Za-z][^<>]{0,50}>\s*){200,}")


def _parser() -> etree.HTMLParser:
    # etree's parser, not lxml.html's: plain elements, no Python class lookup per element.
    return etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)


def parse_html(text: str, data: bytes | None = None) -> etree._Element | None:
    """The page's root element, or None when the text holds no HTML at all. `data`: the
    text's UTF-8 when the caller has it already (the body as fetched)."""
    if data is None:
        data = text.encode("utf-8", errors="replace")
    parser = _parser()
    root = etree.fromstring(data, parser)
    if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in parser.error_log):
        # libxml2 stops at its depth limit and drops the rest of the page: drop runs of
        # opening tags and runs of closing tags (the usual shape of such pages), parse again.
        parser = _parser()
        root = etree.fromstring(_TAG_RUN.sub(b"", data), parser)
    return root


def class_index(
    root: etree._Element, tokens: frozenset[str] | None = None
) -> dict[str, list[etree._Element]]:
    """Elements by class token, in document order: one pass over the tree. (An XPath class
    test reads every element's attributes, about 0.3 ms a scan on a 40 KB page; a dozen such
    scans would dominate extraction.) With `tokens`, only those are indexed; a class value
    is split once per page (menus repeat the same few values hundreds of times)."""
    index: dict[str, list[etree._Element]] = {}
    if tokens is None:
        for element in root.iter(etree.Element):  # elements only (no comments / PIs)
            value = element.get("class")
            if value:
                for token in value.split():
                    if token in index:
                        index[token].append(element)
                    else:
                        index[token] = [element]
        return index
    wanted: dict[str, list[str]] = {}
    for element in root.iter(etree.Element):
        value = element.get("class")
        if value:
            found = wanted.get(value)
            if found is None:
                found = wanted[value] = [t for t in value.split() if t in tokens]
            for token in found:
                if token in index:
                    index[token].append(element)
                else:
                    index[token] = [element]
    return index


# What the walk does with a tag, looked up once per event (lower-case tags, as lxml's HTML
# parser gives them; others are lower-cased first). Any other tag is inline: its text only.
_INLINE, _BLOCK, _CELL, _ROW, _LINE_BREAK, _PRE, _SKIP, _NOT_ELEMENT = range(8)
_KINDS: dict[object, int] = {
    **{t: _INLINE for t in _PLAIN}, **{t: _BLOCK for t in BLOCK_TAGS},
    **{t: _CELL for t in CELL_TAGS}, "tr": _ROW, "br": _LINE_BREAK, "pre": _PRE,
    **{t: _SKIP for t in SKIP_TAGS},
    etree.Comment: _NOT_ELEMENT, etree.ProcessingInstruction: _NOT_ELEMENT,
    etree.Entity: _NOT_ELEMENT,
}


def _kind(tag: object) -> int:
    if not isinstance(tag, str):
        return _NOT_ELEMENT
    return _KINDS.get(tag.lower(), _INLINE)


def element_lines(
    root: etree._Element,
    skip_classes: frozenset[str] = frozenset(),
    skip_elements: Container[etree._Element] | None = None,
) -> list[str]:
    """The element's text as normalised, non-empty lines (see module docstring). Elements
    below `root` whose class has a word of `skip_classes` are skipped with their subtree; a
    caller that has those elements already (a page's class index) passes them as
    `skip_elements` instead, which spares the walk a class lookup on every element."""
    if not len(root):  # a leaf (no children, no comments): its own text, one line
        tag = root.tag
        if isinstance(tag, str) and tag.lower() not in _LEAF_SPECIAL:
            return _leaf_lines(root.text)
    # parts[-1] is _BREAK (the object) right after a line break: a second break there, or text
    # of blanks only (a line's leading blanks), would make an empty line or blanks that the
    # normalisation drops anyway, so neither is added (fewer parts to join and split)
    parts: list[str] = [_BREAK]
    add = parts.append
    rows: list[int] = []  # cells seen so far in each open <tr>
    in_cell = 0
    in_pre = 0
    had_cells = False
    kinds = _KINDS
    by_class = bool(skip_classes) and skip_elements is None
    # A walk over children with a stack of the open elements' child iterators (no recursion):
    # a leaf (most elements) is opened and closed in one step. Comments and processing
    # instructions are not visited, their tails included (as lxml's iterwalk does not).
    kind = kinds.get(root.tag)
    if kind is None:
        kind = _kind(root.tag)
    if kind == _NOT_ELEMENT:
        return []
    if kind == _CELL:
        had_cells = True
        in_cell = 1
    elif kind == _ROW:
        rows.append(0)
    elif kind == _PRE:
        in_pre = 1
    text = root.text
    if text:
        if in_pre:
            add(_pre(text))
        elif not text.isspace():
            add(text)
    stack: list[tuple[etree._Element, int, Iterator[etree._Element]]] = []
    current, current_kind, children = root, kind, iter(root)
    while True:
        for child in children:
            tag = child.tag
            kind = kinds.get(tag)
            if kind is None:
                kind = _kind(tag)
            if kind == _NOT_ELEMENT:
                continue
            if kind == _SKIP:
                skipped = True
            elif skip_elements is not None:
                skipped = child in skip_elements
            elif by_class:
                value = child.get("class")
                skipped = bool(value) and not skip_classes.isdisjoint(value.split())
            else:
                skipped = False
            if not skipped:  # (a skipped element is closed below as if it were empty)
                if kind == _INLINE:
                    pass
                elif kind in (_BLOCK, _LINE_BREAK):
                    if in_cell:
                        add(" ")
                    elif parts[-1] is not _BREAK:
                        add(_BREAK)
                elif kind == _CELL:
                    had_cells = True
                    if rows:
                        if rows[-1]:
                            add(CELL_SEPARATOR)
                        rows[-1] += 1
                    in_cell += 1
                elif kind == _ROW:
                    rows.append(0)
                    if parts[-1] is not _BREAK:
                        add(_BREAK)
                elif kind == _PRE:  # a block too
                    if in_cell:
                        add(" ")
                    elif parts[-1] is not _BREAK:
                        add(_BREAK)
                    in_pre += 1
                text = child.text
                if text:
                    if in_pre:
                        add(_pre(text))
                    elif parts[-1] is not _BREAK or not text.isspace():
                        add(text)
                if len(child):  # open it: its children next, then its end
                    stack.append((current, current_kind, children))
                    current, current_kind, children = child, kind, iter(child)
                    break
            # the child's end (a leaf, or a skipped element)
            if kind == _BLOCK:
                if in_cell:
                    add(" ")
                elif parts[-1] is not _BREAK:
                    add(_BREAK)
            elif kind in (_INLINE, _LINE_BREAK, _SKIP):
                pass
            elif kind == _CELL:
                in_cell = max(0, in_cell - 1)
            elif kind == _ROW:
                if rows:
                    rows.pop()
                if parts[-1] is not _BREAK:
                    add(_BREAK)
            elif kind == _PRE:
                if in_cell:
                    add(" ")
                elif parts[-1] is not _BREAK:
                    add(_BREAK)
                in_pre = max(0, in_pre - 1)
            tail = child.tail
            if tail:
                if in_pre:
                    add(_pre(tail))
                elif parts[-1] is not _BREAK or not tail.isspace():
                    add(tail)
        else:
            # the current element's children are done: its end
            kind = current_kind
            if kind == _BLOCK:
                if in_cell:
                    add(" ")
                elif parts[-1] is not _BREAK:
                    add(_BREAK)
            elif kind in (_INLINE, _LINE_BREAK, _SKIP):
                pass
            elif kind == _CELL:
                in_cell = max(0, in_cell - 1)
            elif kind == _ROW:
                if rows:
                    rows.pop()
                if parts[-1] is not _BREAK:
                    add(_BREAK)
            elif kind == _PRE:
                if in_cell:
                    add(" ")
                elif parts[-1] is not _BREAK:
                    add(_BREAK)
                in_pre = max(0, in_pre - 1)
            if not stack:
                break  # the root: its tail is not its text
            tail = current.tail
            if tail:
                if in_pre:
                    add(_pre(tail))
                elif parts[-1] is not _BREAK or not tail.isspace():
                    add(tail)
            current, current_kind, children = stack.pop()
    lines = _lines("".join(parts))
    if had_cells:
        # (a line whose first character is neither "|" nor a blank, what \s is to re and
        # str.isspace() alike, is no empty row: kept without the regex)
        return [line for line in lines
                if (line[0] != "|" and not line[0].isspace()) or not _EMPTY_ROW.match(line)]
    return lines


def _leaf_lines(text: str | None) -> list[str]:
    """A leaf's text as its one line: printable text (no blank but the space, nothing _DROP
    removes: str.isprintable() is false for all of them) with single spaces inside is already
    its line; other text is normalised."""
    if not text:
        return []
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        return [text]
    line = " ".join(_DROP.sub("", text).split())
    return [line] if line else []


# The walk's text to lines in C passes over its UTF-8 (the same result as
# [" ".join(raw.split()) for raw in _DROP.sub("", text).split(_BREAK)], non-empty ones): ASCII
# blanks become spaces and _DROP's ASCII characters go in one bytes.translate, NBSP becomes a
# space, runs of spaces collapse, and each line's ends are stripped. Text holding one of the
# rarer blanks or invisible characters (C1 controls, soft hyphen, U+1680, U+180E, U+2000-U+200D,
# U+2028, U+2029, U+202F, U+205F, U+2060, U+3000, U+FEFF) takes the str path.
_ASCII_BLANKS = bytes.maketrans(b"\t\n\x0b\x0c\r", b"     ")
_ASCII_DROP = bytes(range(0x01, 0x09)) + bytes(range(0x0E, 0x20)) + b"\x7f"
_RARE_C2 = re.compile(rb"\xc2[\x80-\x9f\xad]")  # C1 controls (NEL among them), soft hyphen
_RARE_E1 = re.compile(rb"\xe1(?:\x9a\x80|\xa0\x8e)")  # U+1680, U+180E
_RARE_E2 = re.compile(rb"\xe2(?:\x80[\x80-\x8d\xa8\xa9\xaf]|\x81[\x9f\xa0])")  # U+2000-U+200D, ...


def _lines(text: str) -> list[str]:
    try:
        # NBSP becomes a space in the str (one C pass, ~4x cheaper than in its UTF-8)
        data = (text.replace("\xa0", " ") if "\xa0" in text else text).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (never in a parsed page)
        return _str_lines(text)
    if b"\xc2" in data and _RARE_C2.search(data):
        return _str_lines(text)
    if ((b"\xe1" in data and _RARE_E1.search(data)) or (b"\xe2" in data and _RARE_E2.search(data))
            or (b"\xe3" in data and b"\xe3\x80\x80" in data)
            or (b"\xef" in data and b"\xef\xbb\xbf" in data)):  # (a lead byte first: memchr)
        return _str_lines(text)
    data = data.translate(_ASCII_BLANKS, _ASCII_DROP)
    # runs of spaces: split at each pair (found in C), ends of pieces dropped (no search for a
    # pair first: a two-byte search costs as much as the split), then the one space a run
    # left at a line's end or start stripped from each line (cheaper than two replace passes)
    data = b" ".join([p for p in (piece.strip(b" ") for piece in data.split(b"  ")) if p])
    return [line for line in (raw.strip(" ") for raw in data.decode("utf-8").split(_BREAK)) if line]


def _str_lines(text: str) -> list[str]:
    # After _DROP, str.split()'s whitespace is exactly the blanks above (the separators
    # \x1c-\x1f it adds are dropped): each line's blanks collapse and its ends are stripped in C.
    lines = (" ".join(raw.split()) for raw in _DROP.sub("", text).split(_BREAK))
    return [line for line in lines if line]


def _pre(text: str) -> str:
    """Text inside <pre>: its line breaks are structure."""
    return _SOURCE_BREAKS.sub(_BREAK, text.replace("\x00", ""))


def element_text(
    root: etree._Element,
    skip_classes: frozenset[str] = frozenset(),
    skip_elements: Container[etree._Element] | None = None,
) -> str:
    """The element's text on one line, whitespace-normalised (its lines are already: joined
    with one space they are what normalize_space would make of them)."""
    if not len(root):  # a leaf: element_lines' first step, without the call
        tag = root.tag
        if isinstance(tag, str) and tag.lower() not in _LEAF_SPECIAL:
            return leaf_text(root.text)
    return " ".join(element_lines(root, skip_classes, skip_elements))


def leaf_text(text: str | None) -> str:
    """" ".join(_leaf_lines(text)): a leaf's text (its element's .text) on one line."""
    if not text:
        return ""
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        return text
    return " ".join(_DROP.sub("", text).split())
