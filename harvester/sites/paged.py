"""PagedSource: a Source for an HTML archive whose listing is paged by numbers from 0.

The cursor is the page number. The site package gives the functions: the listing URL of a
page, the listing parser, the document parser and the challenge test (all module-level, so
they run in the extraction workers). The Wilson Center Digital Archive is one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harvester.source import Cursor, ListingRequest, WalkStart


@dataclass(frozen=True)
class PagedSource:
    name: str
    live_base_url: str
    archive_name: str
    home_page: str
    listing_url: Callable[..., str]  # (base URL, page from 0, page size) -> listing URL
    parse_listing: Callable[..., Any]
    parse_document: Callable[..., dict[str, Any]]
    is_challenge: Callable[[bytes], bool]
    listing_page_size: int = 100
    newest_first: bool = True
    record_fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    field_order: tuple[str, ...] = ()  # the records' field order (default: the core's, then own)

    def start(self, walk: WalkStart) -> Cursor:
        """Page 0, or the page an open backfill campaign stopped at."""
        if walk.resume is not None:
            return max(0, int(walk.resume))
        return 0

    def listing_request(self, base_url: str, cursor: Cursor, page_size: int) -> ListingRequest:
        return ListingRequest(self.listing_url(base_url, int(cursor), page_size))

    def next_cursor(self, cursor: Cursor, step: Any) -> Cursor | None:
        return int(cursor) + 1
