"""The sample archive's documents as OAI-PMH records: identifiers, datestamps, sets, deletions.

Datestamps are deterministic. A document unchanged since the catalog began has its upload's
datestamp: document i at FIRST_UPLOAD + i * 20,160 s (7/30 of a day), so its day is the
"Original Uploaded Date" its page shows. A change (a new upload, an edit, a withdrawal, a
restore, by any switch or client) gets the catalog's clock: the clock starts at midnight after
the last upload and moves on a minute before and a minute after each batch of changes, so a
change's datestamp is later than every responseDate given before it and earlier than every
one given after. The catalog notices changes by comparing the archive with what it saw last.

A withdrawn document is a deleted record (its header says status="deleted") for as long as
it stays withdrawn. Sets: `subject:<slug>` per subject discussed, `archive:<slug>` per
original archive (hierarchical: `subject` holds every `subject:...`).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from harvester.sample import words as W
from harvester.sample.corpus import SampleArchive
from harvester.sample.generate import FIRST_UPLOAD

ID_PREFIX = "oai:digitalarchive.sample:"
STEP = 20_160  # seconds between two consecutive documents' datestamps
EPOCH = int(datetime(FIRST_UPLOAD.year, FIRST_UPLOAD.month, FIRST_UPLOAD.day,
                     tzinfo=UTC).timestamp())
DAY = 86_400
TICK = 60  # the clock's move before and after a batch of changes

# (top set, its name, the section or info block its members come from, the pool)
SET_GROUPS = (
    ("subject", "Subjects Discussed", "Subjects Discussed", W.SUBJECTS),
    ("archive", "Original Archive", "Original Archive", W.ARCHIVES),
)


def slug(text: str) -> str:
    """A setSpec part: lowercase ASCII letters and digits joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def all_sets() -> list[tuple[str, str]]:
    """(setSpec, setName) of every set, top sets first in each group."""
    out: list[tuple[str, str]] = []
    for top, name, _, pool in SET_GROUPS:
        out.append((top, name))
        out += [(f"{top}:{slug(value)}", value) for value in pool]
    return out


def base_stamp(i: int) -> int:
    """The datestamp (POSIX seconds) of document i before any change."""
    return EPOCH + i * STEP


def identifier(record_id: int | str) -> str:
    return f"{ID_PREFIX}{record_id}"


def record_id_of(oai_identifier: str) -> str | None:
    if not oai_identifier.startswith(ID_PREFIX):
        return None
    return oai_identifier[len(ID_PREFIX):] or None


def fmt_stamp(stamp: int, day: bool) -> str:
    when = datetime.fromtimestamp(stamp, UTC)
    return when.strftime("%Y-%m-%d" if day else "%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Entry:
    """One record of the catalog: ordered by (stamp, index)."""

    stamp: int
    index: int
    deleted: bool

    @property
    def key(self) -> tuple[int, int]:
        return (self.stamp, self.index)


class OaiCatalog:
    """Datestamps and deletions of the archive's documents, following the archive's changes."""

    def __init__(self, archive: SampleArchive) -> None:
        self.archive = archive
        self._lock = threading.Lock()
        self._generation = archive.generation
        self._size = archive.size
        self._versions = {i: archive.version(i) for i in range(archive.size) if archive.version(i)}
        self._withdrawn = self._withdrawn_now()
        self._stamps: dict[int, int] = {}  # index -> datestamp of its last change
        last = base_stamp(self._size - 1) if self._size else EPOCH - DAY
        self.clock = (last // DAY + 1) * DAY  # midnight after the last upload
        self._order: list[Entry] | None = None
        self._sets: dict[int, tuple[str, ...]] = {}

    # -- following the archive -----------------------------------------------------------
    def _withdrawn_now(self) -> frozenset[int]:
        found = (self.archive.index_of_record(rid) for rid in self.archive.withdrawn())
        return frozenset(i for i in found if i is not None)

    def sync(self) -> None:
        """Give the archive's changes since the last look their datestamps."""
        archive = self.archive
        with self._lock:
            generation = archive.generation
            if generation == self._generation:
                return
            self._generation = generation
            changed = set(range(self._size, archive.size))
            for i in range(self._size):
                version = archive.version(i)
                if version != self._versions.get(i, 0):
                    changed.add(i)
                    self._versions[i] = version
            for i in changed:
                if archive.version(i):
                    self._versions[i] = archive.version(i)
            self._size = archive.size
            withdrawn = self._withdrawn_now()
            changed |= withdrawn ^ self._withdrawn
            self._withdrawn = withdrawn
            if changed:
                self.clock += TICK
                for i in changed:
                    self._stamps[i] = self.clock
                self.clock += TICK
                self._order = None

    def advance(self, seconds: int) -> int:
        """Move the clock on (the repository's time passes); the new clock."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self.clock += int(seconds)
            return self.clock

    # -- reading ----------------------------------------------------------------------------
    def stamp(self, i: int) -> int:
        return self._stamps.get(i, base_stamp(i))

    def is_deleted(self, i: int) -> bool:
        return i in self._withdrawn

    def entries(self) -> list[Entry]:
        """Every record (deleted ones too), oldest datestamp first."""
        with self._lock:
            if self._order is None:
                self._order = sorted(
                    (Entry(self._stamps.get(i, base_stamp(i)), i, i in self._withdrawn)
                     for i in range(self._size)), key=lambda e: e.key)
            return self._order

    def earliest(self) -> int:
        order = self.entries()
        return order[0].stamp if order else self.clock

    def sets_of(self, i: int) -> tuple[str, ...]:
        """The setSpecs of document i (its subjects and original archives)."""
        found = self._sets.get(i)
        if found is None:
            doc = self.archive.document(i)
            specs: list[str] = []
            for top, _, label, _ in SET_GROUPS:
                values: tuple[str, ...] = ()
                for section in doc.sections:
                    if section.label == label:
                        values = tuple(p.text for p in section.pills)
                block = doc.info_text(label)
                if block is not None:
                    values += block.pills
                specs += [f"{top}:{slug(v)}" for v in values]
            found = tuple(dict.fromkeys(specs))
            self._sets[i] = found
        return found

    def in_set(self, i: int, spec: str) -> bool:
        return any(s == spec or s.startswith(spec + ":") for s in self.sets_of(i))

    def select(self, start: int | None, stop: int | None, spec: str | None,
               include_deleted: bool = True) -> list[Entry]:
        """The records with start <= datestamp <= stop (seconds), in set `spec`."""
        out = []
        for entry in self.entries():
            if start is not None and entry.stamp < start:
                continue
            if stop is not None and entry.stamp > stop:
                break
            if entry.deleted and not include_deleted:
                continue
            if spec and not self.in_set(entry.index, spec):
                continue
            out.append(entry)
        return out


def day_end(stamp: int) -> int:
    """The last second of the day of `stamp`."""
    return stamp - stamp % DAY + DAY - 1


_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def parse_stamp(text: str) -> tuple[int, bool] | None:
    """A from/until argument: (POSIX seconds, is a day) or None when malformed."""
    for pattern, regex, is_day in (("%Y-%m-%d", _DAY_RE, True),
                                   ("%Y-%m-%dT%H:%M:%SZ", _SECONDS_RE, False)):
        if not regex.match(text):
            continue
        try:
            when = datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            return None
        return int(when.timestamp()), is_day
    return None
