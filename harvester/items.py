"""The items the spider hands to the pipelines: one extracted document, or a page of them."""

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
    # the record's stored JSON, encoded where its listing page was parsed and the record
    # finalized (harvester/prefinal.py); a pipeline of the harvester's that changes the
    # record drops it
    encoded: bytes | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageItem:
    """The records that came whole with one listing page (an OAI-PMH ListRecords page),
    handed to the pipelines as one item: each pipeline handles the page's documents
    together (pipelines.base.process_page), and Scrapy's per-item work (spider middlewares,
    the pipeline chain, the item signals) is paid once a page instead of once a record. A
    document a pipeline drops or fails on leaves the page with its own item_dropped or
    item_error signal, as it would have alone; the rest go on."""
    documents: list[DocumentItem]
    response: Any = field(default=None, repr=False)  # the listing page's response


def documents_of(item: Any) -> tuple[DocumentItem, ...] | list[DocumentItem]:
    """The documents an item carries: itself, a page's, or none."""
    if isinstance(item, DocumentItem):
        return (item,)
    if isinstance(item, PageItem):
        return item.documents
    return ()
