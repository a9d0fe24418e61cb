"""The document model: what one sample document holds, before any HTML.

Both the renderer (HTML) and the ground truth (expected records) read this
model, so they agree by construction without sharing code with the extractor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# a paragraph is a sequence of runs: (text, inline tag or "")
Run = tuple[str, str]


@dataclass(frozen=True)
class Block:
    """One body block: a paragraph (runs), a list (items) or a table (rows of cells)."""

    kind: str  # "p" | "ol" | "ul" | "table" | "blank" (an empty <p>&nbsp;</p>)
    runs: tuple[Run, ...] = ()
    items: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    header: bool = False  # first table row rendered with <th>


@dataclass(frozen=True)
class Tab:
    """One tab of the document body."""

    label: str  # e.g. "Translation - English", "Original Scan"
    blocks: tuple[Block, ...] = ()  # empty for a scan
    scan: bool = False  # the pane holds the .pdf-preview object
    download: bool = False  # the pane ends with the download link

    @property
    def kind(self) -> str | None:
        word = self.label.split(" - ")[0].split()[0].lower()
        return word if word in ("translation", "transcript", "original") else None

    @property
    def language(self) -> str | None:
        parts = self.label.split(" - ", 1)
        return parts[1].strip() if len(parts) == 2 else None


@dataclass(frozen=True)
class Pill:
    text: str
    span: bool = True  # <a class="name"><span>text</span></a> or <a class="name">text</a>


@dataclass(frozen=True)
class PillSection:
    label: str  # "Associated Places", "Subjects Discussed", ...
    pills: tuple[Pill, ...]
    heading: str = "h3"  # "h3" | "h4"
    subject_class: bool = False  # pills carry .pill-subject


@dataclass(frozen=True)
class InfoBlock:
    label: str  # "Source", "Original Archive", "Rights", ...
    kind: str  # "text" | "pills" | "rights"
    text: str = ""
    pills: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """One sample document as the site would hold it."""

    index: int
    record_id: int
    nid: int
    slug: str
    title: str
    uploaded: str  # ISO date; also drives the listing order
    date_text: str | None
    date_iso: str | None
    summary: str | None
    credits: str | None
    classification_line: str | None
    tabs: tuple[Tab, ...]
    tab_style: str  # "button" | "a"
    tab_ids_match: bool
    authors: tuple[Pill, ...]
    sections: tuple[PillSection, ...]
    info: tuple[InfoBlock, ...]
    label_colon: bool
    cf_key: int  # Cloudflare email obfuscation key
    version: int = 0  # number of edits applied
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def has_download(self) -> bool:
        return any(t.download for t in self.tabs)

    @property
    def has_scan(self) -> bool:
        return any(t.scan for t in self.tabs)

    @property
    def download_path(self) -> str:
        return f"/document/{self.nid}/download"

    @property
    def scan_path(self) -> str:
        return f"{SCAN_DIR}{self.record_id}.pdf"

    @property
    def path(self) -> str:
        return f"/document/{self.slug}"

    def info_text(self, label: str) -> InfoBlock | None:
        for block in self.info:
            if block.label == label:
                return block
        return None


SCAN_DIR = "/sites/default/files/shared-media/imported_document_original_file/"
LIVE_BASE = "https://digitalarchive.wilsoncenter.org"
