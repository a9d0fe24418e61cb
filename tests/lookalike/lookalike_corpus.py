"""Ground truth of the look-alike Wilson site: documents drawn from the site notes only.

Written from /work/shared/notes/wilson-digital-archive.md, independently of the harvester's
own sample archive: every document knows the record the harvester should make of it
(`Doc.expected()`), and the renderer (lookalike_render.py) draws it the way the notes say
the live Drupal site does, varying what the notes leave open.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
STOP_WORDS = {"a", "an", "the", "of", "to", "from", "and", "in", "on", "for", "with", "by",
              "at", "between", "about", "as", "into"}

RIGHTS_1 = ("The History and Public Policy Program welcomes reuse of Digital Archive materials "
            "for research and educational purposes. Some documents may be subject to copyright "
            "or other restrictions.")
RIGHTS_2_HEAD = ("To enquire about this document's rights status or request permission for "
                 "commercial use, please contact the History and Public Policy Program at")
RIGHTS_EMAIL = "HAPP@wilsoncenter.org"
RIGHTS = f"{RIGHTS_1}\n{RIGHTS_2_HEAD} {RIGHTS_EMAIL}."
CREDITS = ["This document was made possible with support from the Leon Levy Foundation.",
           "This document was made possible with support from Youngone Corporation.",
           "This document was made possible with support from the MacArthur Foundation."]

PEOPLE = ["Stalin, Joseph", "Mao, Zedong", "Kim, Il Sung", "Nehru, Jawaharlal", "Kádár, János",
          "Gromyko, Andrei Andreevich", "Zhou, Enlai", "Khrushchev, Nikita Sergeevich",
          "Tito, Josip Broz", "Ulbricht, Walter", "Castro, Fidel", "Honecker, Erich",
          "Brezhnev, Leonid Il'ich", "Ceaușescu, Nicolae", "Kohl, Helmut"]
ORGS = ["Communist Party of the Soviet Union. Central Committee", "United Nations",
        "Warsaw Treaty Organization", "Korean Workers' Party", "Socialist Unity Party of Germany",
        "North Atlantic Treaty Organization"]
PLACES = ["Korea (North)", "China", "Soviet Union", "India", "Hungary", "Cuba", "Germany (East)",
          "Yugoslavia", "Romania", "Vietnam", "Czechoslovakia", "Mongolia"]
SUBJECTS = ["Korean War, 1950-1953", "Nuclear weapons", "Sino-Soviet split", "Cold War History",
            "Economic assistance", "Hungarian Revolution, 1956", "Cuban Missile Crisis, 1962",
            "Diplomacy", "Military assistance", "Propaganda"]
ARCHIVES = ["Archive of the President, Russian Federation (APRF)",
            "Hungarian National Archives (MOL)", "Chinese Foreign Ministry Archive",
            "Politisches Archiv des Auswärtigen Amts (PA AA)",
            "Arhivele Naționale ale României"]
TYPES = ["Telegram", "Letter", "Memorandum", "Minutes", "Report", "Cable", "Speech", None]
LANGUAGES = ["Russian", "Chinese", "Korean", "Hungarian", "German", "Romanian", "English"]
DONORS = ["Leon Levy Foundation", "Youngone Corporation", "MacArthur Foundation",
          "Korea Foundation", "Henry Luce Foundation"]
CONTRIBUTORS = ["Kramer, Mark", "Weathersby, Kathryn", "Ostermann, Christian F."]
CLASSIFICATIONS = ["Top Secret", "Secret", "Strictly Secret", "Confidential"]
KINDS = {"Translation": "translation", "Transcript": "transcript", "Original": "original"}
TITLE_FORMS = [
    "Ciphered Telegram, {a} to {b}",
    "Letter, {a} to {b}",
    "Memorandum of Conversation between {a} and {b}",
    "Record of a Conversation with {a} on the Situation in {p}",
    "Report on the Visit of {a} to {p}",
    "Minutes of the Meeting of the {o}",
    "Cable from the Embassy in {p} on \"Economic Questions\" & Aid",
]
# Titles given to three documents each, so their slugs clash and get -0, -1.
CLASH_TITLES = ["Cable from the Chinese Embassy in Pyongyang",
                "Note on the Talks with the Delegation"]
TEXT_LINES = [
    "Comrade {a} received the delegation at 11:00 [sic] and spoke for two hours.",
    "(p. 1) The situation in {p} has worsened since the last report [1].",
    "[...] The question of assistance was raised again by the other side.",
    "We consider it necessary to inform you of the following: the proposal is accepted.",
    "The talks took place in a friendly atmosphere, with {a} present throughout.",
    "It was agreed that the next meeting would be held in {p} in the spring.",
]
FOREIGN_LINES = {
    "Russian": ["Товарищ {a} принял делегацию.", "Положение в {p} ухудшилось [1]."],
    "Chinese": ["毛泽东同志接见了代表团。", "会谈在友好的气氛中进行。"],
    "Korean": ["김일성 동지는 대표단을 접견하였다.", "회담은 우호적인 분위기에서 진행되었다."],
    "Hungarian": ["Kádár elvtárs fogadta a küldöttséget.", "A helyzet romlott."],
    "German": ["Genosse {a} empfing die Delegation.", "Die Lage in {p} hat sich verschlechtert."],
    "Romanian": ["Tovarășul {a} a primit delegația.", "Situația s-a înrăutățit."],
}


@dataclass
class Tab:
    """One tab of the body: a label ("Translation - English") and its blocks, or a scan."""

    label: str
    # ("p", str) | ("ul", [str, ...]) | ("table", [[cell, ...], ...])
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)  # .pdf-preview data paths

    def expected(self) -> dict[str, Any] | None:
        if not self.blocks:
            return None
        head, _, language = self.label.partition(" - ")
        lines: list[str] = []
        for kind, value in self.blocks:
            if kind == "p":
                lines.append(value)
            elif kind == "ul":
                lines.extend(value)
            else:
                lines.extend(" | ".join(cells) for cells in value)
        return {"kind": KINDS[head], "language": language or None, "text": "\n".join(lines)}


@dataclass
class Doc:
    nid: int
    record_id: str
    title: str
    slug: str
    created: int  # upload order key (seconds); larger is newer
    uploaded: str | None
    date_text: str | None
    date_iso: str | None
    summary: str | None
    tabs: list[Tab]
    authors: list[str]
    places: list[str]
    subjects: list[str]
    people: list[str]
    contributors: list[str]
    source: str | None
    original_archive: list[str]
    rights: bool
    type: str | None
    languages: list[str]
    classification_block: str | None  # the "Original Classification" information block
    classification_line: str | None  # the line after the summary
    donors: list[str]
    credits: str | None
    download: bool
    info_order: list[str]
    label_tag: str = "h3"  # h3.title or h4.title on the pill blocks
    edits: int = 0

    @property
    def path(self) -> str:
        return f"/document/{self.slug}"

    def file_paths(self) -> list[str]:
        paths = [f"/document/{self.nid}/download"] if self.download else []
        for tab in self.tabs:
            paths.extend(tab.scans)
        return paths

    def expected(self) -> dict[str, Any]:
        """The record fields the harvester should produce from this document's page."""
        texts = [t for t in (tab.expected() for tab in self.tabs) if t is not None]
        return {
            "record_id": self.record_id, "node_id": str(self.nid), "title": self.title,
            "date": self.date_iso, "date_text": self.date_text, "summary": self.summary,
            "texts": texts, "authors": self.authors, "places": self.places,
            "subjects": self.subjects, "people": self.people, "source": self.source,
            "original_archive": self.original_archive,
            "rights": RIGHTS if self.rights else None, "uploaded": self.uploaded,
            "type": self.type, "languages": self.languages,
            "classification": self.classification_block or self.classification_line,
            "donors": self.donors, "credits": self.credits,
        }


def slugify(title: str, taken: set[str]) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = [w for w in re.split(r"[^a-z0-9]+", ascii_title.lower()) if w and w not in STOP_WORDS]
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 95:
            break
        slug = f"{slug}-{word}" if slug else word
    base, n = slug, 0
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    taken.add(slug)
    return slug


class Corpus:
    """All documents of one look-alike site, old ones first; new uploads appended."""

    def __init__(self, size: int, seed: int = 1950) -> None:
        self.rng = random.Random(seed)
        self.docs: list[Doc] = []
        self._slugs: set[str] = set()
        self._ids: set[int] = set()
        self._nids: set[int] = set()
        self._clock = 1_300_000_000  # 2011-03-13: the first upload
        for i in range(size):
            self.docs.append(self._make(i, new=False))

    def publish(self, k: int) -> list[Doc]:
        made = [self._make(len(self.docs) + j, new=True) for j in range(k)]
        self.docs.extend(made)
        return made

    def by_record_id(self, rid: str) -> Doc:
        return next(d for d in self.docs if d.record_id == rid)

    # --- generation --------------------------------------------------------------------
    def _unique(self, pool: set[int], lo: int, hi: int) -> int:
        while True:
            n = self.rng.randint(lo, hi)
            if n not in pool:
                pool.add(n)
                return n

    def _pick(self, items: list[str], lo: int, hi: int) -> list[str]:
        return self.rng.sample(items, self.rng.randint(lo, hi))

    def _date(self, i: int) -> tuple[str | None, str | None]:
        r = self.rng
        year, month, day = r.randint(1945, 1991), r.randint(1, 12), r.randint(1, 28)
        form = i % 5
        if form in (0, 1):
            return f"{MONTHS[month - 1]} {day}, {year}", f"{year}-{month:02d}-{day:02d}"
        if form == 2:
            return f"{MONTHS[month - 1]} {year}", f"{year}-{month:02d}"
        if form == 3:
            return str(year), str(year)
        return None, None

    def _title(self, i: int) -> str:
        if i % 17 in (5, 6, 7):
            return CLASH_TITLES[(i // 17) % len(CLASH_TITLES)]
        r = self.rng
        a, b = r.sample([p.split(", ")[1] + " " + p.split(", ")[0] for p in PEOPLE], 2)
        form = TITLE_FORMS[i % len(TITLE_FORMS)]
        return form.format(a=a, b=b, p=r.choice(PLACES), o=r.choice(ORGS)) + f" (No. {i + 1})"

    def _tabs(self, i: int, rid: str, languages: list[str]) -> list[Tab]:
        r = self.rng
        a, p = r.choice(PEOPLE).split(", ")[0], r.choice(PLACES)
        tabs: list[Tab] = []
        shape = i % 6
        if shape != 5:  # shape 5: a scan-only document
            blocks: list[tuple[str, Any]] = [("p", line.format(a=a, p=p))
                                             for line in r.sample(TEXT_LINES, r.randint(2, 4))]
            if shape == 1:
                blocks.append(("ul", [f"{n}. Point {n} of the agreement." for n in (1, 2, 3)]))
            if shape == 2:
                blocks.append(("table", [["Item", "Quantity"], ["Rifles", "1,200"], ["Trucks", "45"]]))
            tabs.append(Tab("Translation - English", blocks))
        foreign = next((lang for lang in languages if lang in FOREIGN_LINES), None)
        if foreign and shape in (0, 3):
            tabs.append(Tab(f"Transcript - {foreign}",
                            [("p", line.format(a=a, p=p)) for line in FOREIGN_LINES[foreign]]))
        if shape in (0, 4, 5):
            scans = [f"/sites/default/files/shared-media/imported_document_original_file/{rid}.pdf"]
            if shape == 5 and i % 4 == 1:
                scans.append(
                    f"/sites/default/files/shared-media/imported_document_original_file/{rid}_p2.pdf")
            tabs.append(Tab("Original Scan", scans=scans))
        return tabs

    def _make(self, i: int, new: bool) -> Doc:
        r = self.rng
        if new:
            rid = self._unique(self._ids, 300_000, 399_999)
            self._clock = max(self._clock, 1_790_000_000) + r.randint(60, 3600)
        else:
            rid = self._unique(self._ids, 110_000, 220_000) if i % 9 else self._unique(self._ids, 1000, 9999)
            self._clock += r.randint(3600, 86_400 * 10)
        nid = self._unique(self._nids, 10_000, 99_999)
        created = self._clock
        uploaded = (dt.datetime.fromtimestamp(created, dt.UTC).date().isoformat()
                    if i % 11 != 3 else None)
        title = self._title(i)
        date_text, date_iso = self._date(i)
        languages = self._pick(LANGUAGES, 1, 2) if i % 13 != 4 else []
        tabs = self._tabs(i, str(rid), languages)
        summary = (f"{title.split(' (No.')[0]} discusses {r.choice(SUBJECTS).lower()} and the "
                   f"situation in {r.choice(PLACES)}.") if i % 8 != 2 else None
        cls_block = r.choice(CLASSIFICATIONS) if i % 3 == 0 else None
        cls_line = None
        if summary and i % 5 == 1:
            cls_line = cls_block or r.choice(CLASSIFICATIONS)
        people = self._pick(PEOPLE + ORGS, 0, 4)
        info = ["Source", "Original Archive", "Rights", "Original Uploaded Date", "Type",
                "Language", "Record ID", "Original Classification", "Donors"]
        if i % 4 == 3:
            r.shuffle(info)
        return Doc(
            nid=nid, record_id=str(rid), title=title, slug=slugify(title, self._slugs),
            created=created, uploaded=uploaded, date_text=date_text, date_iso=date_iso,
            summary=summary, tabs=tabs,
            authors=self._pick(PEOPLE, 1, 2) if i % 7 != 6 else [],
            places=self._pick(PLACES, 0, 3), subjects=self._pick(SUBJECTS, 0, 3), people=people,
            contributors=self._pick(CONTRIBUTORS, 1, 2) if i % 10 == 4 else [],
            source=(f"{r.choice(ARCHIVES)}, f. {r.randint(1, 99)}, op. {r.randint(1, 9)}, "
                    f"d. {r.randint(1, 500)}, ll. {r.randint(1, 60)}-{r.randint(61, 99)}. "
                    "Translated by Gary Goldberg.") if i % 12 != 7 else None,
            original_archive=self._pick(ARCHIVES, 0, 1) if i % 6 != 3 else [],
            rights=i % 15 != 9, type=TYPES[i % len(TYPES)], languages=languages,
            classification_block=cls_block, classification_line=cls_line,
            donors=self._pick(DONORS, 0, 2), credits=CREDITS[i % 3] if i % 4 == 0 else None,
            download=i % 6 != 4, info_order=info, label_tag="h4" if i % 5 == 3 else "h3",
        )
