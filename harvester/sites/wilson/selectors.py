"""Every selector and label string the Wilson Center Digital Archive extractor reads.

A change on the live site is a change here only. CSS selectors are compiled to XPath
(lxml.etree.XPath), and the listing's regular expressions compiled, once, on first use: pure
computation, no I/O, that a document's extraction never needs (cssselect's import and those
compilations were ~20 ms of every `harvester extract` process). See docs/wilson-dom.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, cast

import lxml.etree as etree


class _LazyXPath:
    """css(selector), translated and compiled on its first call."""

    __slots__ = ("_selector", "_xpath")

    def __init__(self, selector: str) -> None:
        self._selector = selector
        self._xpath: etree.XPath | None = None

    def __call__(self, root: etree._Element) -> Any:
        if self._xpath is None:
            from cssselect import GenericTranslator

            self._xpath = etree.XPath(GenericTranslator().css_to_xpath(
                self._selector, prefix="descendant-or-self::"))
        return self._xpath(root)


def css(selector: str) -> etree.XPath:
    """A compiled XPath for a CSS selector, evaluated relative to the element it is called on."""
    return cast(etree.XPath, _LazyXPath(selector))


class _LazyPattern:
    """re.compile(pattern, flags) on its first use."""

    __slots__ = ("_args", "_pattern")

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._pattern: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._pattern is None:
            self._pattern = re.compile(*self._args)
        return getattr(self._pattern, name)


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A regular expression compiled on first use (the listing's: a document never needs them)."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))


_XML_BLANKS = str.maketrans("\t\n\r", "   ")


def with_class(root: etree._Element, token: str) -> list[etree._Element]:
    """css(".token") evaluated on `root` (descendant-or-self, document order)."""
    return [el for el in root.iter(etree.Element) if _has_class(el, token)]


def _has_class(element: etree._Element, token: str) -> bool:
    """What css(".token") tests: the token among the class words (split as XPath's
    normalize-space does: on space, tab, CR and LF only)."""
    value = element.get("class")
    if not value or token not in value:  # most elements: no split at all
        return False
    return token in value.translate(_XML_BLANKS).split(" ")


# --- document page: head ----------------------------------------------------------------
CANONICAL = css("link[rel~=canonical]")
SHORTLINK = css("link[rel~=shortlink]")
DRUPAL_SETTINGS = css('script[data-drupal-selector="drupal-settings-json"]')


def HEAD_ELEMENTS(  # noqa: N802 - a selector
    elements: Iterable[etree._Element],
) -> tuple[list[etree._Element], list[etree._Element], list[etree._Element]]:
    """(CANONICAL, SHORTLINK, DRUPAL_SETTINGS) among the page's <link> and <script> elements
    (document order; the page's one walk collects them) instead of three XPath scans."""
    canonical: list[etree._Element] = []
    shortlink: list[etree._Element] = []
    settings: list[etree._Element] = []
    for element in elements:
        if element.tag == "link":
            rel = element.get("rel")
            if rel:  # rel~=word: one of its words (split as normalize-space does)
                words = rel.translate(_XML_BLANKS).split(" ")
                if "canonical" in words:
                    canonical.append(element)
                if "shortlink" in words:
                    shortlink.append(element)
        elif element.get("data-drupal-selector") == "drupal-settings-json":
            settings.append(element)
    return canonical, shortlink, settings


NODE_PATH = re.compile(r"^/?node/(\d+)$")
# The same key read from the settings text when it is not valid JSON (cut short, HTML-escaped).
NODE_PATH_IN_SETTINGS = re.compile(r'"currentPath"\s*:\s*"\\?/?node\\?/(\d+)"')
NODE_URL = re.compile(r"/node/(\d+)(?:[/?#]|$)")
DOWNLOAD_NID = re.compile(r"/document/(\d+)/download(?:[/?#]|$)")

# Tuples of class tokens are looked up in the page's one-pass class index
# (harvester.sites.htmltext.class_index), in the order given; CSS then selects inside
# those small subtrees. Plain CSS on the whole page is kept for tag-first selectors.

# --- document page: heading, credits ----------------------------------------------------
CONTENT_BLOCK = ("content-block",)
# Inside CONTENT_BLOCK, tried in this order, the first with text wins: the first element of
# class "title" on the live page is empty (a public scraper got empty titles from `.title`).
def H1_TITLE(root: etree._Element) -> Iterator[etree._Element]:  # noqa: N802 - a selector
    """css("h1.title") (descendant-or-self, document order) as a tag-filtered walk."""
    return (el for el in root.iter("h1") if _has_class(el, "title"))


def H1(root: etree._Element) -> Iterator[etree._Element]:  # noqa: N802 - a selector
    """css("h1")."""
    return root.iter("h1")


def PAGE_TITLE(root: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css(".page-title")."""
    return with_class(root, "page-title")


TITLE = (H1_TITLE, H1, PAGE_TITLE)
# On a page without a content block: h1.title, then .page-title, then any h1 (not chrome).
TITLE_FALLBACK = (H1_TITLE, ("page-title",), H1)


def DATE(root: etree._Element) -> Iterator[etree._Element]:  # noqa: N802 - a selector
    """css(".date") inside CONTENT_BLOCK (a few elements), lazily: the first one is read."""
    return (el for el in root.iter(etree.Element) if _has_class(el, "date"))
CREDITS = ("donated",)

# --- site chrome around the content (mega-menu, site header, footer) -------------------
# An element under one of these is chrome: headings, teasers and pills there are not the
# document's (issue 17: a ~170-link mega-menu with h2.title columns named like sections,
# topic chips styled as pills and a teaser with its own .text-block).
CHROME_ANCESTOR_TAGS = frozenset({"nav"})
CHROME_ANCESTOR_ROLES = frozenset({"navigation", "banner", "contentinfo", "search"})
# Chrome only outside <main>/<article> (a node's own <header> or <footer> is content).
CHROME_OUTER_TAGS = frozenset({"header", "footer"})
CONTENT_TAGS = frozenset({"main", "article"})
# Chrome subtrees the page's one walk may step over (harvester/sites/wilson/pageindex.py):
# a <nav>, a <header>/<footer> outside <main>/<article>.
CHROME_SKIP_TAGS = frozenset({"nav", *CHROME_OUTER_TAGS})

# --- body texts -------------------------------------------------------------------------
TABS = ("document-tabs",)
TABS_ID = "documentTabs"
_TABS_BY_ID = etree.XPath(f"//*[@id='{TABS_ID}']")
_TABS_BY_ID_TABLE = etree.XPath(f"id('{TABS_ID}')")  # libxml2's table of the parsed ids


def TABS_BY_ID(root: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css("#documentTabs") on the page: the first one from libxml2's id table (what the
    parser saw first, no scan of the page) while it is still in the tree, else a scan."""
    found = _TABS_BY_ID_TABLE(root)
    if found and (found[0] is root or any(a is root for a in found[0].iterancestors())):
        return [found[0]]
    return list(_TABS_BY_ID(root))
NAV_TABS = ("nav-tabs",)
def TAB_LABELS(nav: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css(".nav-link") inside NAV_TABS."""
    return with_class(nav, "nav-link")


def TAB_LABELS_FALLBACK(nav: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css("li") inside NAV_TABS."""
    return list(nav.iter("li"))
TAB_PANES = ("tab-pane",)
TAB_TARGET_ATTRIBUTES = ("data-bs-target", "data-target", "href", "aria-controls")
# Body text of a page without a tab container (none seen yet; lenient guesses).
BODY_FALLBACK = ("tab-content", "document-body", "field--name-body")
TEXT_KINDS = ("translation", "transcript", "original")
# First word of a tab label that means a kind not spelled out ("Scan", "Original Scan").
KIND_ALIASES = {"scan": "original", "scanned": "original", "transcription": "transcript"}
LABEL_LANGUAGE_SEPARATOR = re.compile(r"\s+[-\u2013\u2014:]\s+|\s*:\s+")
# Kind given to a body text whose tab carries no label (or a page without tabs).
DEFAULT_KIND = "translation"

# --- summary, classification line -------------------------------------------------------
SUMMARY = ("text-block",)
CLASSIFICATION_LINE = ("classification",)
def INSIDE_TABS(element: etree._Element) -> bool:  # noqa: N802 - a selector
    """An ancestor is #documentTabs or .document-tabs."""
    return any(a.get("id") == TABS_ID or _has_class(a, "document-tabs")
               for a in element.iterancestors())


def INSIDE_INFO_BLOCK(element: etree._Element) -> bool:  # noqa: N802 - a selector
    """An ancestor is an .information-block."""
    return any(_has_class(a, "information-block") for a in element.iterancestors())

# --- pills: authors and the pill-block sections -----------------------------------------
# Authors: a heading of class "title" (h2 on the live site; h3/h4 accepted) outside any
# pill-block, whose next sibling holds the pills (or plain links). Looked up in the class index.
SECTION_HEADING_CLASS = ("title",)
SECTION_HEADING_TAGS = frozenset({"h2", "h3", "h4"})
PILL_BLOCKS = ("pill-block",)
_LABEL_TAGS = frozenset({"h2", "h3", "h4", "h5"})


def BLOCK_LABEL(block: etree._Element) -> Iterator[etree._Element]:  # noqa: N802 - a selector
    """css("h2, h3, h4, h5, .title") in a pill-block, lazily (the first one with text is the
    label, usually the block's first child)."""
    return (el for el in block.iter(etree.Element) if el.tag in _LABEL_TAGS or _has_class(el, "title"))


def NEXT_SIBLING(element: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """following-sibling::*[1]: the next element (not a comment or processing instruction)."""
    sibling = element.getnext()
    while sibling is not None and not isinstance(sibling.tag, str):
        sibling = sibling.getnext()
    return [] if sibling is None else [sibling]
def PILLS(container: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css(".pill") in a pill section or an information block."""
    return with_class(container, "pill")


def PILL_NAME(pill: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css(".name") on one pill (a few elements): the first match, without an XPath call."""
    for element in pill.iter(etree.Element):
        if _has_class(element, "name"):
            return [element]
    return []


def PILL_NAME_SPANS(name: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css("span") on a pill's name element."""
    return list(name.iter("span"))


def PLAIN_LINKS(container: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css("a"): a heading's sibling without pills: its links are the names."""
    return list(container.iter("a"))
# section label (lower-cased, trailing colon dropped) -> record field; others are ignored
PILL_LABELS = {
    "author(s)": "authors",
    "authors": "authors",
    "author": "authors",
    "associated places": "places",
    "places": "places",
    "subjects discussed": "subjects",
    "subjects": "subjects",
    "associated people & organizations": "people",
    "associated people and organizations": "people",
    "associated people & organisations": "people",
    "associated people": "people",
    # "Document Contributor(s)" is deliberately absent: contributors are neither authors nor
    # associated people, and the record has no field for them (docs/wilson-dom.md).
}

# --- "Document Information" blocks ------------------------------------------------------
INFO_BLOCKS = ("information-block",)
INFO_LABEL_CLASS = ("sub-title",)  # looked up in the class index


def INFO_LABEL(block: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css(".sub-title") in one block (a few elements): a Python walk beats an XPath call."""
    return with_class(block, "sub-title")


def INFO_VALUE(block: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css(".text") in one block."""
    return with_class(block, "text")


INFO_LABELS = {
    "source": "source",
    "original archive": "original_archive",
    "rights": "rights",
    "original uploaded date": "uploaded",
    "uploaded date": "uploaded",
    "uploaded": "uploaded",
    "type": "type",
    "document type": "type",
    "language": "languages",
    "languages": "languages",
    "original language": "languages",
    "record id": "record_id",
    "original classification": "classification",
    "classification": "classification",
    "donors": "donors",
    "donor": "donors",
}

# --- files ------------------------------------------------------------------------------
# Download links and every `.pdf-preview` (object[data], embed[src], iframe[src], or a
# wrapper of any tag around one of those), in page order, as one tag-filtered walk over
# `a`, the embedding tags and the previews' own tags (an XPath with string tests on every
# element costs ~0.4 ms a page; this ~0.03 ms).
DOWNLOAD_HREF = "/download"  # an <a> whose href holds this may be the download link
DOWNLOAD_LINK = re.compile(r"/document/[^/?#]+/download/?(?:[?#]|$)")
PDF_PREVIEW = ("pdf-preview",)
EMBED_TAGS = ("object", "embed", "iframe")
# Where a preview (or the embedding element inside a wrapper preview) names its file.
FILE_SOURCE_ATTRIBUTES = ("data", "src", "href")

# --- Cloudflare e-mail obfuscation ------------------------------------------------------
CFEMAIL = ("__cf_email__",)
def CFEMAIL_INSIDE(link: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css("[data-cfemail]") inside CFEMAIL_LINKS."""
    return [el for el in link.iter(etree.Element) if el.get("data-cfemail") is not None]
CFEMAIL_HREF = "/cdn-cgi/l/email-protection#"  # css("a[href*='...']"): an <a> whose href holds it


def CFEMAIL_LINKS(root: etree._Element) -> list[etree._Element]:  # noqa: N802 - a selector
    """css("a[href*='/cdn-cgi/l/email-protection#']") as one tag-filtered walk."""
    return [a for a in root.iter("a") if CFEMAIL_HREF in (a.get("href") or "")]


CFEMAIL_PLACEHOLDER = "email protected"

# --- the class index ---------------------------------------------------------------------
# Every class token the page looks up in its class index (the tuples above): the index holds
# these only. A tuple of tokens added above must be added here too (page.py refuses others).
CLASS_TOKENS = frozenset(
    CONTENT_BLOCK + CREDITS + ("page-title",) + TABS + NAV_TABS + TAB_PANES + BODY_FALLBACK
    + SUMMARY + CLASSIFICATION_LINE + SECTION_HEADING_CLASS + PILL_BLOCKS + INFO_BLOCKS
    + INFO_LABEL_CLASS + PDF_PREVIEW + CFEMAIL
)

# Class tokens the page's one walk also indexes split as a CSS class selector splits (on XML
# blanks), for css(".token") inside a container: pills, their names, a block's label and value.
XML_CLASS_TOKENS = frozenset({"pill", "name", "text", "sub-title"})
# A chrome subtree whose markup holds one of these is walked: the extractor reads them without
# a chrome test (information blocks, tabs, body wrappers, files, e-mail obfuscation), or they
# can make a part of it content (<main>, <article>).
CHROME_SKIP_MARKERS = tuple(
    t.encode() for t in (*TABS, TABS_ID, *NAV_TABS, *TAB_PANES, *BODY_FALLBACK, *INFO_BLOCKS,
                         *INFO_LABEL_CLASS, *PDF_PREVIEW, *CFEMAIL, "cfemail", CFEMAIL_HREF,
                         "email-protection", DOWNLOAD_HREF,
                         *(f"<{tag}" for tag in sorted(CONTENT_TAGS | set(EMBED_TAGS))))
)

# --- chrome that must never reach a text field ------------------------------------------
# Elements skipped when reading any text (prompts, previews, screen-reader chrome).
SKIP_CLASSES = frozenset(
    {"download", "pdf-preview", "skip-link", "visually-hidden", "sr-only", "share",
     "share-links", "social-share", "cookie-banner", "eu-cookie-compliance-banner"}
)
# The tokens the page's one walk indexes: the lookups', and the skipped elements' (a text walk
# then tests each element against that set instead of reading its class).
INDEX_TOKENS = CLASS_TOKENS | SKIP_CLASSES
# Whole lines dropped from texts and the summary (compared lower-cased).
CHROME_LINES = frozenset(
    {"download pdf", "download", "skip to content", "document information", "author(s):",
     "author(s)", "original scan", "share", "print"}
)
# Lines starting so are the rights statement: rights field only (compared lower-cased,
# typographic apostrophes folded).
RIGHTS_PREFIXES = (
    "the history and public policy program welcomes reuse",
    "to enquire about this document's rights status",
    "to inquire about this document's rights status",
)

# --- not a document ---------------------------------------------------------------------
CHALLENGE_MARKERS = (b"triggerinterstitialchallenge", b"/_sec/verify")
DOCUMENT_MARKER = b"information-block"

# --- listing page -----------------------------------------------------------------------
# Results are found by their URL shape, wherever they stand (the live striped table, Drupal
# views rows, lists, cards); links in the site's chrome or side blocks are never results.
# The live site's results: `table.table.table-hover.table-striped`, the link in
# `td.document a` (wilson-digital-archive.md); taken first when the page has them.
LISTING_LIVE_LINKS = css("td.document a[href]")
# A document link: /document/<slug> (not /document/<nid>/download) or /node/<nid>.
DOCUMENT_LINK_PATH = lazy_re(r"^/(?:document/(?!\d+/download)[^/?#]+|node/\d+)/?$")
LISTING_EXCLUDE = lazy_re(r"/download/?(?:[?#]|$)")
# Ancestors whose links are chrome or side blocks: by tag, by ARIA role, and by the words of
# their class and id ("region-sidebar-first", "block-featured-documents", "main-menu").
CHROME_TAGS = frozenset({"header", "footer", "nav", "aside"})
CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "menu",
                          "menubar", "search"})
# matched anywhere in a class or id (Drupal glues words: "block-views-blockfeatured-docs")
CHROME_SUBSTRINGS = ("featured", "related", "sidebar", "menu", "breadcrumb", "carousel",
                     "promo", "footer", "navbar", "spotlight", "highlight", "popular",
                     "recommend", "cookie", "newsletter", "toolbar", "skip-link")
# matched as whole words of a class or id ("nav", but not "canvas")
CHROME_WORDS = frozenset({"nav", "navigation", "header", "share", "social", "recent",
                          "trending", "aside", "banner", "tabs", "facets", "facet",
                          "pager", "pagination"})
CLASS_WORDS = lazy_re(r"[a-z0-9]+")
# The results count: live "Results: 21 - 30 of 81"; also "Showing 11 - 20 of 16,153 results",
# "16,153 results". Looked for in these elements first, then in the page's text.
RESULTS_COUNT = css(".search-results-count, .results-count, .view-header, .views-header, "
                    ".summary, .result-summary, .search-summary")
RANGE_OF = lazy_re(r"(\d[\d,.\u00a0]*)\s*[-\u2013\u2014]\s*(\d[\d,.\u00a0]*)\s+of\s+"
                      r"(\d[\d,.\u00a0]*\d|\d)", re.IGNORECASE)
TOTAL_OF = lazy_re(r"\bof\s+(\d[\d,.\u00a0]*)\s+(?:results?|documents?|items?|records?)\b",
                      re.IGNORECASE)
TOTAL_ANY = lazy_re(r"\s*(?:showing\s+|found\s+|results?:?\s*)?(\d[\d,.]*)\s+(?:results?|"
                       r"documents?|items?|records?)\b|\s*results?:\s*(\d[\d,.]*)\b",
                       re.IGNORECASE)  # matched at the start of a short text
COUNT_TEXT_MAX = 120  # characters: a count is a short line, not a paragraph
# A page that says it holds no results (past the end of the listing, or an empty search).
NO_RESULTS = lazy_re(r"\b(?:no|0)\s+(?:results?|documents?|items?|records?)\b|yielded no "
                        r"results|nothing (?:was )?found|did not match any", re.IGNORECASE)
# The pager's next link: informational only (the walk follows page numbers).
NEXT_PAGE = css(".pager a[rel~=next], .pager__item--next a, nav a[rel~=next], link[rel~=next], "
                "a[rel~=next], .pagination .next a, li.next a")
SEARCH_RESULTS = css(".search-results, td.document")  # a listing given as a document
