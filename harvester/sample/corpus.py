"""SampleArchive: a deterministic, lazily generated look-alike of the Wilson Center Digital Archive.

Document i depends only on (seed, i, edits of i): the same in a 50- and a
20,000-document archive. Only small metadata (ids, titles, slugs) is held for
every document; full documents are generated on demand and kept in a small LRU.
The listing, asked for newest upload first, shows the highest index first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from harvester.sample.expected import expected_record
from harvester.sample.generate import Head, Meta, generate, head_for, meta_for
from harvester.sample.model import LIVE_BASE, Document
from harvester.sample.slugs import base_slug, with_suffix

PAGE_SIZE = 10
WITHDRAWN_ANSWERS = (404, 410, 200, 301)  # what a withdrawn document's page can answer
MAX_SIZE = 1_000_000
_DOC_CACHE = 512


class SampleArchive:
    """The sample archive's content and its switches (publish, edit, withdraw/restore,
    break_site/mend_site)."""

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        if not 0 <= size <= MAX_SIZE:
            raise ValueError(f"size must be within 0..{MAX_SIZE}: {size}")
        self.seed = seed
        self.initial_size = size
        self.generation = 0  # bumped by every change, so caches of rendered pages can follow
        self._lock = threading.RLock()
        self._metas: list[Meta] = []
        self._slugs: list[str] = []
        self._slug_clashes: dict[str, int] = {}
        self._by_slug: dict[str, int] = {}
        self._by_record: dict[int, int] = {}
        self._by_nid: dict[int, int] = {}
        self._edits: dict[int, int] = {}  # index -> number of edits
        self._file_revisions: dict[int, int] = {}  # index -> edits that replaced its PDFs
        self._withdrawn: dict[int, int] = {}  # index -> the status its page answers (404/410)
        self.broken: tuple[int, str] | None = None  # (status, "document" | "all"): break_site
        self._docs: OrderedDict[tuple[int, int], Document] = OrderedDict()
        self._grow(size)

    # -- lookup ---------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self._metas)

    @property
    def listed_count(self) -> int:
        """Documents the listing shows (withdrawn ones are not listed)."""
        return self.size - len(self._withdrawn)

    @property
    def total_pages(self) -> int:
        return (self.listed_count + PAGE_SIZE - 1) // PAGE_SIZE

    def meta(self, i: int) -> Meta:
        return self._metas[i]

    def slug(self, i: int) -> str:
        return self._slugs[i]

    def index_of_record(self, record_id: int | str) -> int | None:
        return self._by_record.get(_as_int(record_id))

    def index_of_nid(self, nid: int | str) -> int | None:
        return self._by_nid.get(_as_int(nid))

    def index_of_slug(self, slug: str) -> int | None:
        return self._by_slug.get(slug)

    def record_ids(self) -> list[str]:
        """Every Record ID, oldest upload first (index order)."""
        return [str(m.record_id) for m in self._metas]

    def listing(self, page: int, per_page: int = PAGE_SIZE, newest_first: bool = True) -> list[int]:
        """Indices shown on listing page `page` (from 0), `per_page` a page, newest upload
        first (the highest index first) or oldest first."""
        order = self.listing_order(newest_first)
        start = page * per_page
        if page < 0 or start >= len(order):
            return []
        return order[start:start + per_page]

    def listing_order(self, newest_first: bool = True) -> list[int]:
        """Every listed index in listing order (withdrawn documents are not listed)."""
        indices = range(self.size - 1, -1, -1) if newest_first else range(self.size)
        if not self._withdrawn:
            return list(indices)
        with self._lock:
            return [i for i in indices if i not in self._withdrawn]

    def page_status(self, i: int | None, kind: str) -> int:
        """The status a page of request kind `kind` answers (200 unless a switch says not):
        a withdrawn document's page (slug or /node/ URL), or any page of a broken site."""
        if self.broken is not None:
            status, paths = self.broken
            if paths == "all" or kind in ("document", "node"):
                return status
        if i is not None and kind in ("document", "node"):
            return self._withdrawn.get(i, 200)
        return 200

    def is_withdrawn(self, i: int) -> bool:
        return i in self._withdrawn

    def version(self, i: int) -> int:
        return self._edits.get(i, 0)

    def file_revision(self, i: int) -> int:
        """How many edits of document i replaced its PDFs (new bytes under the same URLs)."""
        return self._file_revisions.get(i, 0)

    def document(self, i: int) -> Document:
        """The full document at index i (after its edits)."""
        if not 0 <= i < self.size:
            raise IndexError(i)
        key = (i, self._edits.get(i, 0))
        with self._lock:
            doc = self._docs.get(key)
            if doc is not None:
                self._docs.move_to_end(key)
                return doc
        doc = generate(self.seed, self._metas[i], self._slugs[i], key[1])
        with self._lock:
            self._docs[key] = doc
            if len(self._docs) > _DOC_CACHE:
                self._docs.popitem(last=False)
        return doc

    def head(self, i: int) -> Head:
        """What the listing shows of document i, without generating the document."""
        return head_for(self.seed, self._metas[i], self._edits.get(i, 0))

    # -- ground truth -----------------------------------------------------------------------
    def expected_record(self, i: int, files_base: str = LIVE_BASE) -> dict[str, Any]:
        """The record the extractor must output for document i (files on `files_base`)."""
        return expected_record(self.document(i), files_base)

    def expected_for(self, record_id: int | str, files_base: str = LIVE_BASE) -> dict[str, Any]:
        i = self.index_of_record(record_id)
        if i is None:
            raise KeyError(record_id)
        return self.expected_record(i, files_base)

    def expected_records(self, files_base: str = LIVE_BASE) -> Iterator[dict[str, Any]]:
        for i in range(self.size):
            yield self.expected_record(i, files_base)

    # -- switches ---------------------------------------------------------------------------
    def publish(self, k: int = 1) -> list[str]:
        """Add k new uploads (newest, at the top of the listing); returns their Record IDs."""
        if k < 0:
            raise ValueError("k must be >= 0")
        with self._lock:
            start = self.size
            self._grow(start + k)
            self.generation += 1
            return [str(m.record_id) for m in self._metas[start:]]

    def edit(self, record_id: int | str, replace_files: bool = False) -> int:
        """Change a document's summary and first text (and with `replace_files`, the bytes
        of its PDFs, under the same URLs and names); returns its new edit count."""
        i = self.index_of_record(record_id)
        if i is None:
            raise KeyError(f"no record {record_id}")
        with self._lock:
            self._edits[i] = self._edits.get(i, 0) + 1
            if replace_files:
                self._file_revisions[i] = self._file_revisions.get(i, 0) + 1
            self.generation += 1
            return self._edits[i]

    def withdraw(self, record_id: int | str, status: int = 404) -> None:
        """Take a document out of the listing; its page answers `status`: 404 or 410, 200
        (a "Page not found" page served with 200, a soft 404) or 301 (a redirect to the
        search page)."""
        if status not in WITHDRAWN_ANSWERS:
            raise ValueError(f"status must be one of {WITHDRAWN_ANSWERS}, not {status}")
        i = self._index(record_id)
        with self._lock:
            self._withdrawn[i] = status
            self.generation += 1

    def restore(self, record_id: int | str) -> None:
        """Put a withdrawn document back into the listing, its page answering again."""
        i = self._index(record_id)
        with self._lock:
            self._withdrawn.pop(i, None)
            self.generation += 1

    def withdrawn(self) -> dict[str, int]:
        """Record ID -> status of the withdrawn documents."""
        with self._lock:
            return {str(self._metas[i].record_id): s for i, s in self._withdrawn.items()}

    def break_site(self, status: int = 404, paths: str = "document") -> None:
        """Every document page (paths="document") or every page but robots.txt ("all")
        answers `status` until mend_site()."""
        if paths not in ("document", "all"):
            raise ValueError(f"paths must be 'document' or 'all', not {paths!r}")
        if not 400 <= int(status) <= 599:
            raise ValueError(f"status must be an HTTP error status, not {status}")
        with self._lock:
            self.broken = (int(status), paths)
            self.generation += 1

    def mend_site(self) -> None:
        with self._lock:
            self.broken = None
            self.generation += 1

    def state(self) -> dict[str, Any]:
        """What a copy needs to hold the same content: see from_state."""
        with self._lock:
            return {
                "seed": self.seed,
                "initial_size": self.initial_size,
                "size": self.size,
                "edits": {str(self._metas[i].record_id): n for i, n in self._edits.items()},
                "file_revisions": {str(self._metas[i].record_id): n
                                   for i, n in self._file_revisions.items()},
                "withdrawn": {str(self._metas[i].record_id): s
                              for i, s in self._withdrawn.items()},
                "broken": list(self.broken) if self.broken else None,
            }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SampleArchive:
        archive = cls(int(state["initial_size"]), int(state["seed"]))
        archive.publish(int(state["size"]) - archive.size)
        replaced = {str(k): int(v) for k, v in (state.get("file_revisions") or {}).items()}
        for record_id, n in state.get("edits", {}).items():
            for number in range(int(n)):
                archive.edit(record_id, replace_files=number < replaced.get(str(record_id), 0))
        for record_id, status in (state.get("withdrawn") or {}).items():
            archive.withdraw(record_id, int(status))
        if state.get("broken"):
            archive.break_site(int(state["broken"][0]), str(state["broken"][1]))
        return archive

    def _index(self, record_id: int | str) -> int:
        i = self.index_of_record(record_id)
        if i is None:
            raise KeyError(f"no record {record_id}")
        return i

    # -- internals --------------------------------------------------------------------------
    def _grow(self, size: int) -> None:
        for i in range(len(self._metas), size):
            meta = meta_for(self.seed, i)
            base = base_slug(meta.title)
            clash = self._slug_clashes.get(base, 0)
            self._slug_clashes[base] = clash + 1
            slug = with_suffix(base, clash)
            while slug in self._by_slug:  # a suffixed slug that equals another title's slug
                clash += 1
                self._slug_clashes[base] = clash + 1
                slug = with_suffix(base, clash)
            self._metas.append(meta)
            self._slugs.append(slug)
            self._by_slug[slug] = i
            self._by_record[meta.record_id] = i
            self._by_nid[meta.nid] = i


def _as_int(value: int | str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
