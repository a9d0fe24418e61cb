"""Ground truth: the record the extractor must produce for a sample document.

Built from the document model only (never from harvester.sites), following
docs/wilson-dom.md and the record contract.
"""

from __future__ import annotations

from typing import Any

from harvester.sample import words as W
from harvester.sample.model import LIVE_BASE, Block, Document, Tab


def norm(text: str) -> str:
    """Whitespace normalisation: no runs of blanks, no leading or trailing space."""
    return " ".join(text.split())


def block_lines(block: Block) -> list[str]:
    if block.kind == "p":
        return [norm("".join(text for text, _ in block.runs))]
    if block.kind in ("ol", "ul"):
        return [norm(item) for item in block.items]
    if block.kind == "table":
        return [" | ".join(norm(cell) for cell in row) for row in block.rows]
    return []


def tab_text(tab: Tab) -> str:
    return "\n".join(line for block in tab.blocks for line in block_lines(block) if line)


def rights_text() -> str:
    return f"{W.RIGHTS_P1}\n{W.RIGHTS_P2_PREFIX} {W.RIGHTS_EMAIL}."


def file_urls(doc: Document, base: str = LIVE_BASE) -> list[str]:
    """Download link and .pdf-preview paths in page order (see render.tab_pane)."""
    urls: list[str] = []
    for tab in doc.tabs:
        if tab.scan:
            urls.append(base + doc.scan_path)
        if tab.download:
            urls.append(base + doc.download_path)
    return list(dict.fromkeys(urls))


def expected_record(doc: Document, files_base: str = LIVE_BASE) -> dict[str, Any]:
    """The record fields the extractor must output for `doc` (site, identity and content;
    not content_sha256 nor harvested_at), with the lifecycle fields of a record the site
    offers (status "active", withdrawn_at null). File URLs sit on `files_base` (the host the page
    was fetched from)."""
    info = {b.label: b for b in doc.info}

    def text(label: str) -> str | None:
        block = info.get(label)
        return norm(block.text) if block else None

    def pills(label: str) -> list[str]:
        block = info.get(label)
        return [norm(p) for p in block.pills] if block else []

    def section(label: str) -> list[str]:
        for sec in doc.sections:
            if sec.label == label:
                return [norm(p.text) for p in sec.pills]
        return []

    classification = text("Original Classification") or doc.classification_line
    return {
        "site": "wilson",
        "record_id": str(doc.record_id),
        "node_id": str(doc.nid),
        "url": f"{LIVE_BASE}/document/{doc.slug}",
        "title": norm(doc.title),
        "date": doc.date_iso,
        "date_text": doc.date_text,
        "summary": norm(doc.summary) if doc.summary else None,
        "texts": [
            {"kind": tab.kind, "language": tab.language, "text": tab_text(tab)}
            for tab in doc.tabs
            if tab.blocks
        ],
        "authors": [norm(p.text) for p in doc.authors],
        "places": section("Associated Places"),
        "subjects": section("Subjects Discussed"),
        "people": section("Associated People & Organizations"),
        "source": text("Source"),
        "original_archive": pills("Original Archive"),
        "rights": rights_text() if "Rights" in info else None,
        "uploaded": text("Original Uploaded Date"),
        "type": text("Type"),
        "languages": pills("Language"),
        "classification": classification,
        "donors": pills("Donors"),
        "credits": norm(doc.credits) if doc.credits else None,
        "files": [
            {"url": url, "key": None, "sha256": None, "size": None, "content_type": None}
            for url in file_urls(doc, files_base)
        ],
        "status": "active",
        "withdrawn_at": None,
    }
