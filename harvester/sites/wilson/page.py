"""The Wilson Center Digital Archive document page: one method per record field.

`parse_document(body, url)` checks that the bytes are a document page (not empty, binary,
a challenge, a listing or an error page), then returns every record field except `site`,
`content_sha256` and `harvested_at` (see harvester.record.finalize). Selectors live in
selectors.py only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cached_property
from typing import Any

import lxml.etree as etree

from harvester import cleaners
from harvester.exceptions import ChallengePage, InvalidRecord, NotADocument, UnsafeKey
from harvester.keys import check_record_id
from harvester.sites.htmltext import LEAF_SPECIAL as _LEAF_TAGS
from harvester.sites.htmltext import element_lines, element_text, leaf_text, parse_html
from harvester.sites.wilson import selectors as S
from harvester.sites.wilson.pageindex import PageIndex

_GZIP_MAGIC = b"\x1f\x8b"
_BINARY_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x7fELF")
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd\u200b-\u200d\ufeff]")
_RIGHTS_FIRST = {c for p in S.RIGHTS_PREFIXES for c in (p[0], p[0].upper())}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


_CHALLENGE_HEAD = 262144  # bytes of a body searched for the challenge's markers
# bytes.lstrip()'s blanks, then a binary format's magic: no copy of the body to test it
_BINARY_START = re.compile(rb"[ \t\n\r\x0b\x0c]*(?:" + b"|".join(map(re.escape, _BINARY_MAGIC)) + rb")")


def is_challenge(body: bytes) -> bool:
    """True for the bot manager's interstitial challenge (not for a document quoting it)."""
    if body.rfind(S.DOCUMENT_MARKER, 0, _CHALLENGE_HEAD) >= 0:
        # a document page (the marker is lower-case): no lower-cased copy needed; searched
        # from the end, where a page's information blocks are, not through its chrome first
        return False
    head = body[:_CHALLENGE_HEAD].lower()
    return any(m in head for m in S.CHALLENGE_MARKERS) and S.DOCUMENT_MARKER not in head


def _check_bytes(body: bytes) -> None:
    if not body or body.isspace():
        raise NotADocument("empty body")
    if is_challenge(body):
        raise ChallengePage("bot-manager interstitial challenge page, not a document")
    if body.startswith(_GZIP_MAGIC):
        raise NotADocument("binary body (gzip-compressed bytes), not an HTML page")
    if _BINARY_START.match(body):
        raise NotADocument("binary body (PDF/image/archive), not an HTML page")
    head = body[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 with a BOM: NUL bytes are expected
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > 0.05 * len(head):
        raise NotADocument(f"binary body ({controls} control bytes in the first {len(head)})")


def parse_document(
    body: bytes, url: str, *, encoding: str | None = None, prefer_canonical: bool = True
) -> dict[str, Any]:
    """Record fields of a document page; NotADocument / ChallengePage / InvalidRecord else."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    _check_bytes(body)
    text = cleaners.utf8_text(body, encoding)
    data = None if text is None else body  # UTF-8 as it came: parsed without re-encoding
    if text is None:
        text = cleaners.decode_body(body, encoding)
    root = parse_html(text, data) if text and not text.isspace() else None
    if root is None:
        raise NotADocument("empty body (no HTML content)")
    page = WilsonDocumentPage(root, url, prefer_canonical=prefer_canonical)
    page.check_document()
    return page.fields()


def class_index(root: etree._Element) -> PageIndex:
    """The page's one-pass index: the elements of every class token selectors.py looks up, the
    links and embedding elements files and e-mails come from, the head's links and scripts."""
    return PageIndex(root)


def _label(element: etree._Element) -> str:
    """A section or block label, lower-cased, trailing colon dropped; only its first line
    counts (unclosed label elements swallow what follows)."""
    lines = element_lines(element)
    return lines[0].lower().translate(_APOSTROPHES).rstrip(": ").strip() if lines else ""


def _is_chrome_line(line: str) -> bool:
    if len(line) > 80 and line[0] not in _RIGHTS_FIRST:
        return False  # too long for a chrome line, and no rights statement
    low = line[:80].lower()
    if not low.isascii():
        low = low.translate(_APOSTROPHES)
    return (len(line) <= 80 and low in S.CHROME_LINES) or low.startswith(S.RIGHTS_PREFIXES)


def _first(elements: list[Any]) -> Any:
    return elements[0] if elements else None


def _in_chrome(element: etree._Element) -> bool:
    """True under the site's navigation, banner or footer (see selectors, "site chrome")."""
    outer = False
    for ancestor in element.iterancestors():
        tag = ancestor.tag
        if tag in S.CHROME_ANCESTOR_TAGS or ancestor.get("role") in S.CHROME_ANCESTOR_ROLES:
            return True
        if tag in S.CONTENT_TAGS:
            outer = False
            break
        if tag in S.CHROME_OUTER_TAGS:
            outer = True
    return outer


def _first_label(elements: Iterable[etree._Element]) -> str:
    """The first non-empty label among the candidates (an empty `.title` comes first)."""
    for element in elements:
        label = _label(element)
        if label:
            return label
    return ""


class WilsonDocumentPage:
    """A parsed document page; each public method returns one record field."""

    FIELDS = (
        "record_id", "node_id", "url", "title", "date", "date_text", "summary", "texts",
        "authors", "places", "subjects", "people", "source", "original_archive", "rights",
        "uploaded", "type", "languages", "classification", "donors", "credits", "files",
    )

    def __init__(self, root: etree._Element, url: str, *, prefer_canonical: bool = True):
        self.root = root
        self.given_url = url
        self.prefer_canonical = prefer_canonical
        self._page_index = class_index(root)
        self._index = self._page_index.classes
        # The <a> that can be download links or e-mail links (with their href) and the tags
        # that can hold a file, from the same walk: e-mails and file sources are read from it.
        self._tagged = self._page_index.links
        self._skip = self._page_index.skipped  # elements of a SKIP_CLASSES class
        self._decode_emails()

    def _text(self, element: etree._Element) -> str:
        """element_text without the SKIP_CLASSES elements."""
        return element_text(element, S.SKIP_CLASSES, self._skip)

    def _by_class(self, tokens: tuple[str, ...]) -> list[etree._Element]:
        """Elements carrying the first of `tokens` that the page uses (document order)."""
        for token in tokens:
            if token in self._index:
                return self._index[token]
            if token not in S.CLASS_TOKENS:
                raise KeyError(f"class {token!r} is not in selectors.CLASS_TOKENS")
        return []

    @cached_property
    def _content_blocks(self) -> list[etree._Element]:
        return [b for b in self._by_class(S.CONTENT_BLOCK) if not _in_chrome(b)]

    def _in_content_block(self, selector: Any) -> list[etree._Element]:
        return [el for block in self._content_blocks for el in selector(block)]

    # --- checks -------------------------------------------------------------------------

    def check_document(self) -> None:
        """Raise NotADocument unless this is a document page with a title and a Record ID."""
        ids = self._record_ids
        if not ids:
            if S.SEARCH_RESULTS(self.root):
                raise NotADocument("listing page (search results), not a document")
            title = self.title()
            if not title:
                raise NotADocument("no title and no Record ID: not a document page")
            raise NotADocument(f"no Record ID: not a document page (heading {title[:80]!r})")
        if not self.title():
            raise NotADocument("no title (h1) on the page")

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name)() for name in self.FIELDS}

    # --- identity ----------------------------------------------------------------------

    @cached_property
    def _record_ids(self) -> list[str]:
        """Distinct Record ID values (first line of each block; a value holding control
        characters is kept raw so that the key check refuses it)."""
        values = []
        for block in self._info_blocks.get("record_id", []):
            value = self._value(block)
            raw = "".join(value.itertext()).strip()
            lines = element_lines(value)
            values.append(raw if _UNSAFE_CHARS.search(raw) else lines[0] if lines else "")
        return list(dict.fromkeys(v for v in values if v))

    def record_id(self) -> str:
        ids = self._record_ids
        if not ids:
            raise NotADocument("no Record ID")
        if len(ids) > 1:
            shown = ", ".join(repr(i[:40]) for i in ids[:3])
            raise InvalidRecord(f"record_id: the page has different Record IDs ({shown})")
        try:
            return check_record_id(ids[0])
        except UnsafeKey as exc:
            raise InvalidRecord(f"record_id: {exc}"[:200]) from None

    def node_id(self) -> str | None:
        for script in self._head[2]:
            text = script.text or ""
            try:
                path = json.loads(text)["path"]["currentPath"]
            except (ValueError, KeyError, TypeError):
                path = None
            match = S.NODE_PATH.match(path) if isinstance(path, str) else None
            match = match or S.NODE_PATH_IN_SETTINGS.search(text)
            if match:
                return match.group(1)
        for link in self._head[1]:
            match = S.NODE_URL.search(link.get("href") or "")
            if match:
                return match.group(1)
        for href in self._file_sources[1]:
            match = S.DOWNLOAD_NID.search(href)
            if match:
                return match.group(1)
        return None

    @cached_property
    def _head(self) -> tuple[list[etree._Element], list[etree._Element], list[etree._Element]]:
        """The canonical links, shortlinks and Drupal settings scripts, in page order."""
        return S.HEAD_ELEMENTS(self._page_index.head)

    @cached_property
    def _url(self) -> str:
        if self.prefer_canonical:
            for link in self._head[0]:
                url = cleaners.absolute_url(self.given_url, link.get("href"))
                if url and url.startswith(("http://", "https://")):
                    return url
        return self.given_url

    def url(self) -> str:
        return self._url

    # --- heading -----------------------------------------------------------------------

    @cached_property
    def _title(self) -> str:
        if self._content_blocks:
            for selector in S.TITLE:
                text = self._first_text(self._in_content_block(selector))
                if text:
                    return text
        for fallback in S.TITLE_FALLBACK:
            found = self._by_class(fallback) if isinstance(fallback, tuple) else fallback(self.root)
            text = self._first_text(el for el in found if not _in_chrome(el))
            if text:
                return text
        return ""

    def _first_text(self, elements: Any) -> str:
        for element in elements:
            text = self._text(element)
            if text:
                return text
        return ""

    def title(self) -> str:
        return self._title

    @cached_property
    def _date_text(self) -> str | None:
        element = _first(self._in_content_block(S.DATE))
        return (element_text(element) or None) if element is not None else None

    def date_text(self) -> str | None:
        return self._date_text

    def date(self) -> str | None:
        return cleaners.parse_date(self._date_text)

    def credits(self) -> str | None:
        for element in self._by_class(S.CREDITS):
            if not _in_chrome(element):
                return self._text(element) or None
        return None

    # --- texts -------------------------------------------------------------------------

    def texts(self) -> list[dict[str, str | None]]:
        container = _first(self._by_class(S.TABS) or S.TABS_BY_ID(self.root))
        if container is None:
            body = _first(self._by_class(S.BODY_FALLBACK))
            text = self._body_text(body) if body is not None else ""
            return [_text_entry(None, text)] if text else []
        panes = [p for p in self._by_class(S.TAB_PANES) if container in p.iterancestors()]
        nav = [n for n in self._by_class(S.NAV_TABS) if container in n.iterancestors()]
        labels = [el for n in nav for el in S.TAB_LABELS(n)]
        labels = labels or [el for n in nav for el in S.TAB_LABELS_FALLBACK(n)]
        entries = []
        for label, pane in _pair_tabs(labels, panes):
            text = self._body_text(pane)
            if text:
                entries.append(_text_entry(label, text))
        return entries

    def _body_text(self, element: etree._Element) -> str:
        lines = element_lines(element, S.SKIP_CLASSES, self._skip)
        first = _RIGHTS_FIRST  # a line longer than 80 not starting so is no chrome line
        return "\n".join([line for line in lines if (len(line) > 80 and line[0] not in first)
                          or not _is_chrome_line(line)])

    def summary(self) -> str | None:
        for element in self._by_class(S.SUMMARY):
            if not (_in_chrome(element) or S.INSIDE_TABS(element) or S.INSIDE_INFO_BLOCK(element)):
                return self._body_text(element) or None
        return None

    # --- pills ---------------------------------------------------------------------------

    @cached_property
    def _pill_sections(self) -> dict[str, list[str]]:
        sections: dict[str, list[str]] = {}
        blocks = [b for b in self._by_class(S.PILL_BLOCKS) if not _in_chrome(b)]
        in_blocks = set(blocks)
        for heading in self._by_class(S.SECTION_HEADING_CLASS):
            if heading.tag not in S.SECTION_HEADING_TAGS:
                continue
            field = S.PILL_LABELS.get(_label(heading))
            # (a pill-block's own label is read with its block below; a heading in the chrome
            # is none of the document's: the tests are pure, the cheaper ones first)
            if not field or _in_chrome(heading) or any(a in in_blocks for a in heading.iterancestors()):
                continue
            sibling = _first(S.NEXT_SIBLING(heading))
            if sibling is not None:
                names = self._pill_names(sibling) or self._link_names(sibling)
                sections.setdefault(field, []).extend(names)
        for block in blocks:
            field = S.PILL_LABELS.get(_first_label(S.BLOCK_LABEL(block)))
            if field:
                sections.setdefault(field, []).extend(self._pill_names(block))
        return sections

    def authors(self) -> list[str]:
        return self._pill_sections.get("authors", [])

    def places(self) -> list[str]:
        return self._pill_sections.get("places", [])

    def subjects(self) -> list[str]:
        return self._pill_sections.get("subjects", [])

    def people(self) -> list[str]:
        return self._pill_sections.get("people", [])

    # --- "Document Information" ----------------------------------------------------------

    @cached_property
    def _info_block_set(self) -> set[etree._Element]:
        return set(self._by_class(S.INFO_BLOCKS))

    def _own_block(self, element: etree._Element) -> etree._Element | None:
        """The information block an element belongs to (the nearest one around it)."""
        members = self._info_block_set
        return next((a for a in element.iterancestors() if a in members), None)

    @cached_property
    def _info_blocks(self) -> dict[str, list[etree._Element]]:
        """Information blocks by field. A block's label is the first non-empty `.sub-title`
        of its own (not of a block nested in it): a wrapper that carries the class around the
        real blocks has none and is no block; unclosed blocks, nested, keep their own."""
        labels: dict[etree._Element, str] = {}
        for element in self._by_class(S.INFO_LABEL_CLASS):
            block = self._own_block(element)
            if block is not None and block not in labels:
                label = _label(element)
                if label:
                    labels[block] = label
        blocks: dict[str, list[etree._Element]] = {}
        for block in self._by_class(S.INFO_BLOCKS):  # document order
            field = S.INFO_LABELS.get(labels.get(block, ""))
            if field:
                blocks.setdefault(field, []).append(block)
        return blocks

    def _info_lines(self, field: str) -> str | None:
        lines = [ln for b in self._info_blocks.get(field, []) for ln in element_lines(self._value(b))]
        return "\n".join(lines) or None

    def _info_line(self, field: str) -> str | None:
        for block in self._info_blocks.get(field, []):
            text = element_text(self._value(block))
            if text:
                return text
        return None

    def _info_pills(self, field: str) -> list[str]:
        names: list[str] = []
        for block in self._info_blocks.get(field, []):
            # its own pills, in a .text value or straight in the block
            pills = [p for p in self._page_index.within(block, "pill")
                     if self._own_block(p) is block]
            names.extend(self._pill_names(pills) if pills else element_lines(self._value(block)))
        return names

    def source(self) -> str | None:
        return self._info_lines("source")

    def original_archive(self) -> list[str]:
        return self._info_pills("original_archive")

    def rights(self) -> str | None:
        return self._info_lines("rights")

    def uploaded(self) -> str | None:
        return cleaners.parse_iso_date(self._info_line("uploaded"))

    def type(self) -> str | None:
        return self._info_line("type")

    def languages(self) -> list[str]:
        return self._info_pills("languages")

    def classification(self) -> str | None:
        value = self._info_line("classification")
        if value:
            return value
        for element in self._by_class(S.CLASSIFICATION_LINE):
            if not (_in_chrome(element) or S.INSIDE_TABS(element)):
                text = self._text(element)
                if text:
                    return text
        return None

    def donors(self) -> list[str]:
        return self._info_pills("donors")

    # --- files and e-mails ---------------------------------------------------------------

    @cached_property
    def _file_sources(self) -> tuple[list[str], list[str]]:
        """(file paths of the download link and the previews in page order, every href of
        an <a> holding "/download") in one walk over the few tags that can hold them."""
        preview_set = set(self._by_class(S.PDF_PREVIEW))
        paths: list[str] = []
        download_hrefs: list[str] = []
        # the walk made in __init__; an element taken out of the tree since (a decoded
        # e-mail's children, a block's label) is not on the page any more
        for element, given in self._tagged:
            if element in preview_set:
                if not self._attached(element):
                    continue
                value = _source(element)
            elif element.tag == "a":
                href = given or ""
                if S.DOWNLOAD_HREF not in href or not self._attached(element):
                    continue
                download_hrefs.append(href)
                value = href if S.DOWNLOAD_LINK.search(href) else None
            else:  # an embedding element: a file only inside a preview that names none itself
                holder = _first([a for a in element.iterancestors() if a in preview_set])
                value = _source(element) if holder is not None and not _source(holder) else None
                if value and not self._attached(element):
                    continue
            if value:
                paths.append(value)
        return paths, download_hrefs

    def _attached(self, element: etree._Element) -> bool:
        return element is self.root or any(a is self.root for a in element.iterancestors())

    def files(self) -> list[dict[str, Any]]:
        urls: list[str] = []
        for value in self._file_sources[0]:
            url = cleaners.absolute_url(self._url, value)
            if url:
                urls.append(cleaners.strip_fragment(url))
        return [
            {"url": u, "key": None, "sha256": None, "size": None, "content_type": None}
            for u in dict.fromkeys(urls)
        ]

    def _decode_emails(self) -> None:
        """Replace Cloudflare-obfuscated addresses ("[email protected]") by the address."""
        links = [a for a, href in self._tagged if href and S.CFEMAIL_HREF in href]
        spans = self._by_class(S.CFEMAIL) + [el for a in links for el in S.CFEMAIL_INSIDE(a)]
        for element in spans:
            self._replace_text(element, cleaners.decode_cfemail(element.get("data-cfemail")))
        for link in links:
            text = cleaners.normalize_space("".join(link.itertext())).lower()
            if S.CFEMAIL_PLACEHOLDER in text:
                fragment = (link.get("href") or "").rsplit("#", 1)[-1]
                self._replace_text(link, cleaners.decode_cfemail(fragment))

    @staticmethod
    def _replace_text(element: etree._Element, text: str | None) -> None:
        if not text:
            return
        for child in list(element):
            element.remove(child)
        element.text = text

    def _value(self, block: etree._Element) -> etree._Element:
        """The `.text` value of an information block (the block itself, label removed, when the
        value element is missing)."""
        value = self._page_index.first_within(block, "text")
        if value is not None:
            return value
        for label in self._page_index.within(block, "sub-title"):
            parent = label.getparent()
            if parent is not None:
                parent.remove(label)
        return block

    def _link_names(self, container: etree._Element) -> list[str]:
        """Names given as plain links (no pills), in page order."""
        names = [self._text(a) for a in S.PLAIN_LINKS(container)]
        return [name for name in names if name]

    def _pill_names(self, container: etree._Element | list[etree._Element]) -> list[str]:
        """Names of the pills in a container (or of the given pills), in page order."""
        index = self._page_index
        names = []
        pills = (index.within(container, "pill") if isinstance(container, etree._Element)
                 else container)
        first_within, spans_of = index.first_within, S.PILL_NAME_SPANS
        named = index.members("name")
        for pill in pills:
            # first_within(pill, "name"), its first two tests here (a pill's name is usually
            # its first child)
            if pill in named:
                name = pill
            elif len(pill) and pill[0] in named:
                name = pill[0]
            else:
                name = first_within(pill, "name")
            if name is None:
                text = self._text(pill)
            elif not len(name) and isinstance(name.tag, str) and name.tag.lower() not in _LEAF_TAGS:
                # a leaf (most names: a link's text): no span inside but itself, and its text
                # is element_text's
                text = leaf_text(name.text)
            else:
                # element_text's results are normalised: joined by one space, the non-empty
                # ones are what normalize_space would make of them
                parts = []
                for span in spans_of(name):
                    if span is not name:  # (a <span> leaf's text: leaf_text, as element_text)
                        part = leaf_text(span.text) if not len(span) else element_text(span)
                        if part:
                            parts.append(part)
                text = " ".join(parts) or element_text(name)
            if text:
                names.append(text)
        return names


def _source(element: etree._Element) -> str | None:
    """The file a preview or embedding element names (data, src, href), if any."""
    for attribute in S.FILE_SOURCE_ATTRIBUTES:
        value = (element.get(attribute) or "").strip()
        if value:
            return value
    return None


def _target_id(label: etree._Element) -> str | None:
    for element in (label, *label.iterdescendants("a", "button")):
        for attribute in S.TAB_TARGET_ATTRIBUTES:
            value = (element.get(attribute) or "").strip()
            if value:
                return value.rsplit("#", 1)[-1] or None
    return None


def _pair_tabs(
    labels: list[etree._Element], panes: list[etree._Element]
) -> list[tuple[str | None, etree._Element]]:
    """(label text, pane) pairs: by target id when every label names a pane, else by position."""
    texts = [element_text(label) for label in labels]
    by_id = {pane.get("id"): pane for pane in panes if pane.get("id")}
    targets = [_target_id(label) for label in labels]
    if labels and all(t in by_id for t in targets):
        paired = [(text, by_id[t]) for text, t in zip(texts, targets, strict=True) if t]
        seen = {id(p) for _, p in paired}
        return paired + [(None, pane) for pane in panes if id(pane) not in seen]
    return [(texts[i] if i < len(texts) else None, pane) for i, pane in enumerate(panes)]


def _text_entry(label: str | None, text: str) -> dict[str, str | None]:
    kind, language = S.DEFAULT_KIND, None
    if label:
        parts = S.LABEL_LANGUAGE_SEPARATOR.split(label, maxsplit=1)
        for word in parts[0].lower().split():
            word = re.sub(r"[^\w]", "", word)
            word = S.KIND_ALIASES.get(word, word)
            if word in S.TEXT_KINDS:
                kind = word
                break
        if len(parts) > 1 and parts[1].strip():
            language = parts[1].strip()
    return {"kind": kind, "language": language, "text": text}
