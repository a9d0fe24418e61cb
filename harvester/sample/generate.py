"""Deterministic generation of one sample document from (seed, index, version).

Structural variations (tab layout, missing fields, heading levels...) cycle
with the index, each with its own stride, so every variation shows up in any
run of a few dozen consecutive documents; the words are drawn from a
random.Random seeded with a string (stable across processes and Python runs).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from harvester.sample import words as W
from harvester.sample.model import Block, Document, InfoBlock, Pill, PillSection, Run, Tab


@dataclass(frozen=True)
class Meta:
    """What the archive knows of a document without generating it."""

    index: int
    record_id: int
    nid: int
    title: str
    uploaded: str


FIRST_UPLOAD = date(2011, 1, 3)

# tab layouts: (label, blocks?, scan, download); blocks? False for a scan pane
_L = tuple[tuple[str, bool, bool, bool], ...]
TAB_LAYOUTS: tuple[_L, ...] = (
    (("Translation - English", True, False, True),),
    (("Translation - English", True, False, True), ("Original Scan", False, True, False)),
    (
        ("Transcript - Russian", True, False, False),
        ("Translation - English", True, False, True),
        ("Original Scan", False, True, False),
    ),
    (("Original - Chinese", True, False, False), ("Translation - English", True, False, False)),
    (("Original Scan", False, True, True),),
    (("Scan", False, True, False),),
    (
        ("Original - Korean", True, False, False),
        ("Translation - English", True, False, True),
        ("Original Scan", False, True, False),
    ),
    (("Transcript", True, False, True),),
    (
        ("Translation - English", True, False, False),
        ("Transcript - German", True, False, False),
        ("Original - Hungarian", True, False, False),
    ),
    (("Translation - English", True, False, True), ("Transcript - Russian", True, False, False)),
)
# original languages implied by each layout (None: drawn at random)
LAYOUT_LANGUAGES: tuple[tuple[str, ...] | None, ...] = (
    None, None, ("Russian",), ("Chinese",), None, None, ("Korean",), None,
    ("German", "Hungarian"), ("Russian",),
)

INFO_ORDER = (
    "Source", "Original Archive", "Rights", "Original Uploaded Date", "Type", "Language",
    "Record ID", "Original Classification", "Donors",
)


def cyc(i: int, n: int, a: int, b: int = 0) -> int:
    """A value in range(n) that cycles through all of range(n) in any n consecutive indices
    (a must be coprime with n; b shifts the phase so that dimensions do not move together)."""
    return (a * i + b) % n


def uploaded_for(i: int) -> str:
    """Upload dates never decrease with the index: the newest upload is the highest index."""
    return (FIRST_UPLOAD + timedelta(days=(i * 7) // 30)).isoformat()


def meta_for(seed: int, i: int) -> Meta:
    """Record ID (100,000 + 10 i + 0..9), node id (10,000 + 4 i + 0..3), title, upload date."""
    rng = random.Random(f"meta:{seed}:{i}")
    record_id = 100_000 + 10 * i + rng.randrange(10)
    nid = 10_000 + 4 * i + rng.randrange(4)
    return Meta(i, record_id, nid, title_for(rng, i), uploaded_for(i))


def title_for(rng: random.Random, i: int) -> str:
    if i % 9 == 4:  # shared titles: their slugs clash and get -0, -1 ...
        return W.GENERIC_TITLES[(i // 9) % 3]
    a, b = rng.sample(W.CORRESPONDENTS, 2)
    topic = rng.choice(W.TOPICS)
    form = cyc(i, 8, 3, 1)
    if form == 0:
        return f"Ciphered Telegram No. {rng.randrange(100, 99999)} from {a} to {b}"
    if form == 1:
        return f"Memorandum of Conversation between {a} and {b} on {topic}"
    if form == 2:
        return f"Letter from {a} to {b}"
    if form == 3:
        return (
            f"Cable from the Chinese Embassy in North Korea, 'Summary of the Discussions between"
            f" {a} and {b} Concerning {topic} and Related Matters of the Current Period'"
        )
    if form == 4:
        return f"Report by {a} on {topic}"
    if form == 5:
        return f"Minutes of the Meeting of the {rng.choice(W.ORGS)}"
    if form == 6:
        return f"Journal of {a}, Record of a Conversation with {b}, {rng.randrange(1946, 1990)}"
    return f"Telegram from {a} to {b} regarding {topic}"


@dataclass(frozen=True)
class Head:
    """What a listing shows of a document: cheap to generate (its own random stream)."""

    date_text: str | None
    date_iso: str | None
    summary: str | None
    has_download: bool


def head_for(seed: int, meta: Meta, version: int = 0) -> Head:
    i = meta.index
    rng = random.Random(f"head:{seed}:{i}")
    date_text, date_iso = _date(rng, cyc(i, 10, 3, 2))
    summary = _summary(rng) if cyc(i, 5, 7, 3) else None
    if i % 23 == 7:  # a bare document (see generate)
        date_text = date_iso = summary = None
    if version:
        summary = edited_summary(summary, version)
    has_download = any(download for *_, download in TAB_LAYOUTS[i % len(TAB_LAYOUTS)])
    return Head(date_text, date_iso, summary, has_download)


def edited_summary(summary: str | None, version: int) -> str:
    note = f"Revised summary, edit {version}."
    return f"{summary} {note}" if summary else note


def generate(seed: int, meta: Meta, slug: str, version: int = 0) -> Document:
    """The full document `meta.index` of the archive with this seed, after `version` edits."""
    i = meta.index
    rng = random.Random(f"doc:{seed}:{i}")
    layout = TAB_LAYOUTS[i % len(TAB_LAYOUTS)]
    langs = LAYOUT_LANGUAGES[i % len(TAB_LAYOUTS)]
    if langs is None:
        langs = (rng.choice(("Russian", "Chinese", "Korean", "German", "Polish")),)

    head = head_for(seed, meta)
    date_text, date_iso, summary = head.date_text, head.date_iso, head.summary
    credits = rng.choice(W.CREDIT_LINES) if cyc(i, 4, 3, 4) == 0 else None
    cls_mode = cyc(i, 6, 5, 5)
    cls_block = rng.choice(W.CLASSIFICATIONS) if cls_mode in (0, 2, 3) else None
    cls_line: str | None = None
    if cls_mode == 1 or cls_mode == 3:
        cls_line = rng.choice(W.CLASSIFICATIONS)
    elif cls_mode == 2:
        cls_line = "Secret" if cls_block != "Secret" else "Confidential"  # block wins

    blanks = cyc(i, 6, 11, 6) == 0
    lists = cyc(i, 4, 3, 7)
    table = cyc(i, 5, 11, 8)
    tabs = tuple(
        Tab(label, _body(rng, _tab_language(label), blanks, lists, table) if text else (),
            scan, download)
        for label, text, scan, download in layout
    )

    no_span = cyc(i, 3, 5, 9) == 0
    authors = tuple(Pill(p, not no_span) for p in rng.sample(W.PEOPLE, cyc(i, 3, 7, 10)))
    sections = _sections(rng, i, no_span)
    info = _info(rng, i, meta, langs, cls_block)

    doc = Document(
        index=i, record_id=meta.record_id, nid=meta.nid, slug=slug, title=meta.title,
        uploaded=meta.uploaded, date_text=date_text, date_iso=date_iso, summary=summary,
        credits=credits, classification_line=cls_line, tabs=tabs,
        tab_style="a" if cyc(i, 3, 7, 11) == 0 else "button", tab_ids_match=cyc(i, 9, 5, 12) != 0,
        authors=authors, sections=sections, info=info, label_colon=cyc(i, 5, 13, 13) == 0,
        cf_key=rng.randrange(1, 256),
    )
    if i % 23 == 7:  # a bare document: every optional field missing
        doc = replace(
            doc, credits=None,
            classification_line=None, authors=(), sections=(),
            info=tuple(b for b in info if b.label == "Record ID"),
        )
    return apply_edits(doc, version) if version else doc


def apply_edits(doc: Document, version: int) -> Document:
    """The document after `version` edits: a changed summary and an added note in the first text."""
    summary = edited_summary(doc.summary, version)
    tabs = list(doc.tabs)
    for n, tab in enumerate(tabs):
        if tab.blocks:
            extra = Block("p", runs=((f"[Editorial note: text corrected, edit {version}.]", ""),))
            tabs[n] = replace(tab, blocks=tab.blocks + (extra,))
            break
    return replace(doc, summary=summary, tabs=tuple(tabs), version=version)


def _tab_language(label: str) -> str:
    parts = label.split(" - ", 1)
    lang = parts[1] if len(parts) == 2 else "English"
    return lang if lang in W.LANGUAGE_WORDS else "English"


def _date(rng: random.Random, mode: int) -> tuple[str | None, str | None]:
    year = rng.randrange(1945, 1992)
    month = rng.randrange(1, 13)
    day = rng.randrange(1, 29)
    if mode <= 5:
        return f"{W.MONTHS[month - 1]} {day}, {year}", f"{year:04d}-{month:02d}-{day:02d}"
    if mode <= 7:
        return f"{W.MONTHS[month - 1]} {year}", f"{year:04d}-{month:02d}"
    if mode == 8:
        return str(year), f"{year:04d}"
    return None, None


def _sentence(rng: random.Random, lang: str, lo: int = 6, hi: int = 16) -> str:
    pool = W.LANGUAGE_WORDS[lang]
    picked = [rng.choice(pool) for _ in range(rng.randrange(lo, hi))]
    if lang in W.UNSPACED:
        return "".join(picked) + "。"
    text = " ".join(picked)
    return text[0].upper() + text[1:] + "."


def _summary(rng: random.Random) -> str:
    who = rng.choice(W.CORRESPONDENTS)
    text = f"{who} reports on {rng.choice(W.TOPICS)}. " + _sentence(rng, "English", 8, 20)
    return text[0].upper() + text[1:]


def _paragraph(rng: random.Random, lang: str, n: int) -> tuple[Run, ...]:
    sentences = [_sentence(rng, lang) for _ in range(rng.randrange(1, 5))]
    roll = rng.random()
    if roll < 0.25:  # editorial [sic] after a word
        first = sentences[0].split(" ")
        at = rng.randrange(len(first))
        first[at] += " [sic]"
        sentences[0] = " ".join(first)
    elif roll < 0.45:
        sentences.insert(rng.randrange(len(sentences) + 1), "[...]")
    elif roll < 0.6:
        sentences[-1] += f" [{n + 1}]"
    text = " ".join(sentences)
    if n == 0 and rng.random() < 0.5:
        text = f"(p. {rng.randrange(1, 4)}) {text}"
    style = rng.random()
    if style < 0.15:
        return (("TOP SECRET", "strong"), (" " + text, ""))
    if style < 0.3 and " " in text:
        head, tail = text.split(" ", 1)
        word, _, rest = tail.partition(" ")
        return ((head + " ", ""), (word, "em"), (" " + rest, ""))
    return ((text, ""),)


def _body(rng: random.Random, lang: str, blanks: bool, lists: int, table: int) -> tuple[Block, ...]:
    blocks: list[Block] = []
    count = rng.randrange(3, 9)
    for n in range(count):
        blocks.append(Block("p", runs=_paragraph(rng, lang, n)))
        if blanks and n == 1:
            blocks.append(Block("blank"))
        if n == 1 and lists in (0, 1):
            items = tuple(_sentence(rng, lang, 3, 9) for _ in range(rng.randrange(2, 6)))
            blocks.append(Block("ol" if lists == 0 else "ul", items=items))
        if n == 2 and table in (0, 1):
            pool = W.LANGUAGE_WORDS[lang]
            rows = tuple(
                (str(r + 1), rng.choice(pool), f"{rng.randrange(1, 40)},{rng.randrange(100, 999)}")
                for r in range(rng.randrange(2, 5))
            )
            if table == 1:
                rows = (("No.", "Item", "Quantity"),) + rows
            blocks.append(Block("table", rows=rows, header=table == 1))
    if rng.random() < 0.5:
        blocks.append(Block("p", runs=(("Copies: Stalin (2), Molotov", ""),)))
    return tuple(blocks)


def _pills(rng: random.Random, pool: tuple[str, ...], k: int, span: bool) -> tuple[Pill, ...]:
    return tuple(Pill(p, span) for p in rng.sample(pool, k))


def _sections(rng: random.Random, i: int, no_span: bool) -> tuple[PillSection, ...]:
    out = []
    specs = (
        ("Associated Places", W.PLACES, cyc(i, 4, 11, 14), 3),
        ("Subjects Discussed", W.SUBJECTS, cyc(i, 5, 13, 15), 4),
        ("Associated People & Organizations", W.PEOPLE + W.ORGS, cyc(i, 3, 11, 16), 3),
        ("Document Contributor", W.CONTRIBUTORS, 1 if cyc(i, 4, 3, 17) == 0 else 0, 1),
    )
    for n, (label, pool, present, most) in enumerate(specs):
        if not present:
            continue
        heading = "h4" if cyc(i + n, 3, 7, 18) == 0 else "h3"
        span = not (no_span and n == 1) and cyc(i + n, 4, 5, 19) != 0
        out.append(
            PillSection(label, _pills(rng, pool, rng.randrange(1, most + 1), span), heading,
                        subject_class=label == "Subjects Discussed" and i % 2 == 0)
        )
    return tuple(out)


def _info(
    rng: random.Random, i: int, meta: Meta, langs: tuple[str, ...], cls_block: str | None
) -> tuple[InfoBlock, ...]:
    blocks: dict[str, InfoBlock] = {}
    if cyc(i, 7, 3, 20):
        src = rng.choice(W.SOURCE_TEMPLATES).format(
            a=rng.randrange(1, 900), b=rng.randrange(1, 200), c=rng.randrange(200, 400)
        )
        blocks["Source"] = InfoBlock("Source", "text", text=src)
    n_arch = cyc(i, 5, 7, 21)
    if n_arch:
        blocks["Original Archive"] = InfoBlock(
            "Original Archive", "pills",
            pills=tuple(rng.sample(W.ARCHIVES, 2 if n_arch == 1 else 1)),
        )
    if cyc(i, 8, 5, 22):
        blocks["Rights"] = InfoBlock("Rights", "rights")
    if cyc(i, 11, 3, 23):
        label = "Original Uploaded Date"
        blocks[label] = InfoBlock(label, "text", meta.uploaded)
    if cyc(i, 6, 7, 24):
        blocks["Type"] = InfoBlock("Type", "text", text=rng.choice(W.TYPES))
    n_lang = cyc(i, 5, 3, 25)
    if n_lang:
        shown = langs if n_lang != 1 or len(langs) > 1 else langs + ("English",)
        blocks["Language"] = InfoBlock("Language", "pills", pills=shown)
    blocks["Record ID"] = InfoBlock("Record ID", "text", text=str(meta.record_id))
    if cls_block:
        blocks["Original Classification"] = InfoBlock("Original Classification", "text", cls_block)
    n_donors = cyc(i, 4, 7, 26)
    if n_donors >= 2:
        blocks["Donors"] = InfoBlock(
            "Donors", "pills", pills=tuple(rng.sample(W.DONORS, n_donors - 1))
        )
    order = list(INFO_ORDER)
    if cyc(i, 5, 11, 27) == 0:
        rng.shuffle(order)
    return tuple(blocks[label] for label in order if label in blocks)
