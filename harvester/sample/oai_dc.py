"""A sample document as Dublin Core (oai_dc): the same facts its HTML page shows.

| dc element | from the document |
| --- | --- |
| title | the title; after n edits " (revised, edit n)" is added (the page keeps its title) |
| creator, subject, contributor | authors, Subjects Discussed, Document Contributor |
| coverage | Associated Places |
| description | the summary (an edit changes it, as on the page) |
| date | the document's date (YYYY, YYYY-MM or YYYY-MM-DD) |
| type, language, source | the Type, Language and Source blocks |
| rights | the rights statement, one element a paragraph |
| publisher | the archive |
| identifier | the document page, then its PDFs (scan, download) on the same host |

A document's download (`/document/<nid>/download`) is linked as
`/document/<nid>/download/<record_id>.pdf` (the same PDF; harvesters tell files by their
extension). With `forbidden` the title and the description carry characters XML 1.0
forbids, raw and as character references, between words: a reader that drops them gets
the document's own text back.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from harvester.sample import words as W
from harvester.sample.expected import norm
from harvester.sample.model import Document

PUBLISHER = "Wilson Center Digital Archive (offline sample)"
# inserted after the first words of the title and of the description
FORBIDDEN_TITLE = ("\x0b", "&#x1F;")
FORBIDDEN_DESCRIPTION = ("\x01", "&#12;", "\ufffe")


def title_of(doc: Document) -> str:
    title = norm(doc.title)
    return f"{title} (revised, edit {doc.version})" if doc.version else title


def download_link(doc: Document) -> str:
    return f"{doc.download_path}/{doc.record_id}.pdf"


def file_paths(doc: Document) -> list[str]:
    """The document's PDFs in page order (scan, download), as paths on the sample's host."""
    paths: list[str] = []
    for tab in doc.tabs:
        if tab.scan:
            paths.append(doc.scan_path)
        if tab.download:
            paths.append(download_link(doc))
    return list(dict.fromkeys(paths))


def dc_elements(doc: Document, base: str) -> list[tuple[str, str]]:
    """(element name, text) pairs, in oai_dc order, for `doc` served at `base`."""
    out: list[tuple[str, str]] = [("title", title_of(doc))]
    out += [("creator", norm(p.text)) for p in doc.authors]
    sections = {s.label: [norm(p.text) for p in s.pills] for s in doc.sections}
    out += [("subject", text) for text in sections.get("Subjects Discussed", [])]
    if doc.summary:
        out.append(("description", norm(doc.summary)))
    out.append(("publisher", PUBLISHER))
    out += [("contributor", text) for text in sections.get("Document Contributor", [])]
    if doc.date_iso:
        out.append(("date", doc.date_iso))
    info = {b.label: b for b in doc.info}
    if "Type" in info:
        out.append(("type", norm(info["Type"].text)))
    out.append(("identifier", f"{base}{doc.path}"))
    out += [("identifier", f"{base}{path}") for path in file_paths(doc)]
    if "Source" in info:
        out.append(("source", norm(info["Source"].text)))
    if "Language" in info:
        out += [("language", norm(p)) for p in info["Language"].pills]
    out += [("coverage", text) for text in sections.get("Associated Places", [])]
    if "Rights" in info:
        out += [("rights", norm(W.RIGHTS_P1)),
                ("rights", norm(f"{W.RIGHTS_P2_PREFIX} {W.RIGHTS_EMAIL}."))]
    return out


def _inject(escaped: str, marks: tuple[str, ...]) -> str:
    """`marks` put right after the first words of an (escaped) text."""
    words = escaped.split(" ")
    for n, mark in enumerate(marks[:max(len(words) - 1, 1)]):
        words[n] += mark
    return " ".join(words)


def oai_dc(doc: Document, base: str, forbidden: bool = False) -> str:
    """The record's <oai_dc:dc> element as XML text."""
    parts = []
    for name, text in dc_elements(doc, base):
        value = escape(text)
        if forbidden and name == "title":
            value = _inject(value, FORBIDDEN_TITLE)
        elif forbidden and name == "description":
            value = _inject(value, FORBIDDEN_DESCRIPTION)
        parts.append(f"<dc:{name}>{value}</dc:{name}>")
    return ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ '
            'http://www.openarchives.org/OAI/2.0/oai_dc.xsd">'
            + "".join(parts) + "</oai_dc:dc>")
