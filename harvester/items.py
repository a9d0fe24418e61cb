"""The item the spider hands to the pipelines: one extracted document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DocumentItem:
    url: str  # the URL fetched (on the crawl host)
    listing_url: str  # the URL as the listing showed it: identity of the state marker
    record: dict[str, Any]  # record fields (finalized by ValidatePipeline)
    status: str = ""  # new | changed | unchanged | repaired (set by DedupPipeline)
    previous: dict[str, Any] | None = None  # the stored version, when there is one
    page: int | None = None  # listing page the document was found on (backfill cursor)
    from_failed: bool = False  # a retry of a document that failed in an earlier run
    unseen: bool = False  # its URL had no seen marker: most likely new (see DedupPipeline)
    unverified: bool = False  # classified without the stored version (the store was down)
    body: bytes = field(default=b"", repr=False)  # the page, kept until validation (quarantine)
    extra: dict[str, Any] = field(default_factory=dict)
