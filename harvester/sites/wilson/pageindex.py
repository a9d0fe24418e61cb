"""One walk over a document page: its class index and the few tagged elements the extractor
reads, so that no later lookup scans the whole page again.

The walk (`root.iter()`, the cheapest way lxml hands every element to Python) records:
- `classes`: the elements of each token of selectors.INDEX_TOKENS (the lookups' tokens and
  SKIP_CLASSES), in document order, a class value split as str.split() does (what
  `htmltext.class_index` gives); `skipped`, the elements a text walk skips for their class;
- for the tokens of selectors.XML_CLASS_TOKENS (pills, their names, a block's label and value),
  the elements carrying them, their class split on XML blanks as a CSS class selector splits
  it (`selectors.with_class`), and the tags those elements have: `within(container, token)`
  answers css(".token") inside a container by a walk of the container that lxml filters by
  those tags, without Python work on the container's other elements;
- `links`: (element, href) of every <a> whose href may be a download link or an obfuscated
  address, and every embedding element (object, embed, iframe), in document order;
- `head`: every <link> and <script> (canonical link, shortlink, Drupal settings).

A class value is split once per page (a mega-menu repeats the same few values hundreds of
times). `within` walks the live tree, so an element the page removed since (a decoded
address's placeholder) is not found, as a walk of the container would not find it.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.etree as etree

from harvester.sites.wilson import selectors as S

_XML_BLANKS = str.maketrans("\t\n\r", "   ")
_PLAIN_TAG = re.compile(r"[a-z][a-z0-9]*")
# A class value's tokens, kept across pages (a site repeats the same few hundred values on
# every page); emptied when it grows past _SPLIT_MAX values (hostile pages).
_SPLIT: dict[str, tuple[tuple[str, ...], tuple[str, ...]] | tuple[()]] = {}
_SPLIT_MAX = 20_000


class PageIndex:
    """The one-pass index of a document page (see the module docstring)."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.classes: dict[str, list[etree._Element]] = {}
        self.links: list[tuple[etree._Element, str | None]] = []
        self.head: list[etree._Element] = []
        self._members: dict[str, set[etree._Element]] = {}
        self._tags: dict[str, set[str]] = {}
        self._filters: dict[str, tuple[Any, ...]] = {}
        self._walk(root)
        self.skipped: set[etree._Element] = {
            el for token in S.SKIP_CLASSES for el in self.classes.get(token, ())}

    def _walk(self, root: etree._Element) -> None:
        classes, members, tags = self.classes, self._members, self._tags
        tokens, xml_tokens = S.INDEX_TOKENS, S.XML_CLASS_TOKENS
        split = _SPLIT
        if len(split) > _SPLIT_MAX:
            split.clear()
        for element in root.iter(etree.Element):  # elements only (no comments / PIs)
            value = element.get(b"class")  # (a bytes key: lxml does not encode it each time)
            if not value:
                continue
            found = split.get(value)
            if found is None:
                found = split[value] = _tokens(value, tokens, xml_tokens)
            if not found:
                continue
            for token in found[0]:
                if token in classes:
                    classes[token].append(element)
                else:
                    classes[token] = [element]
            for token in found[1]:
                if token in members:
                    members[token].add(element)
                    tags[token].add(element.tag)
                else:
                    members[token] = {element}
                    tags[token] = {element.tag}
        # the few tags files, e-mails and the head come from: one scan that lxml filters by tag
        # (asking every element its tag in Python would cost more than the scan)
        extra = {p.tag for p in classes.get(S.PDF_PREVIEW[0], [])} - {"a", *S.EMBED_TAGS}
        if extra:
            # a preview of another tag (a wrapper <div>): an element of that tag inside it can
            # name the file, so every element of those tags is read (a rare page: two scans)
            self.links = [(el, el.get("href") if el.tag == "a" else None)
                          for el in root.iter("a", *S.EMBED_TAGS, *extra)]
            self.head = list(root.iter("link", "script"))
            return
        download, cfemail = S.DOWNLOAD_HREF, S.CFEMAIL_HREF
        links, head = self.links, self.head
        for element in root.iter("a", *S.EMBED_TAGS, "link", "script"):
            tag = element.tag
            if tag == "a":
                href = element.get("href")
                if href and (download in href or cfemail in href):
                    links.append((element, href))
            elif tag == "link" or tag == "script":
                head.append(element)
            else:  # an embedding element
                links.append((element, None))

    def within(self, container: etree._Element, token: str) -> list[etree._Element]:
        """css(".token") on `container` (descendant-or-self, document order) for a token of
        selectors.XML_CLASS_TOKENS."""
        members = self._members.get(token)
        if not members:
            return []
        return [el for el in self._iter(container, token) if el in members]

    def members(self, token: str) -> set[etree._Element]:
        """Every element carrying `token` (of selectors.XML_CLASS_TOKENS), as a set."""
        return self._members.get(token) or set()

    def first_within(self, container: etree._Element, token: str) -> etree._Element | None:
        """The first of `within(container, token)`, or None."""
        members = self._members.get(token)
        if not members:
            return None
        if container in members:
            return container
        if len(container):
            first = container[0]  # usually the first child (a pill's `a.name`)
            if first in members:
                return first
        return next((el for el in self._iter(container, token) if el in members), None)

    def _iter(self, container: etree._Element, token: str) -> Any:
        """The container's elements (descendant-or-self) of the tags `token`'s elements have;
        every element when a tag is no plain lower-case name lxml could filter by."""
        tags = self._filters.get(token)
        if tags is None:
            found = self._tags[token]
            # every element when a tag is no plain lower-case name lxml could filter by
            tags = self._filters[token] = (
                tuple(found) if all(_PLAIN_TAG.fullmatch(tag) for tag in found) else (etree.Element,))
        return container.iter(*tags)


def _tokens(
    value: str, tokens: frozenset[str], xml_tokens: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]] | tuple[()]:
    """(the class value's words among `tokens`, split as str.split(), repeats kept as the old
    class index kept them; its words among `xml_tokens`, split on XML blanks, each once), or
    () when it has neither."""
    words = tuple(t for t in value.split() if t in tokens)
    xml_words: tuple[str, ...] = ()
    if any(t in value for t in xml_tokens):
        xml_words = tuple(dict.fromkeys(
            t for t in value.translate(_XML_BLANKS).split(" ") if t in xml_tokens))
    return (words, xml_words) if words or xml_words else ()
