"""The Wilson Center Digital Archive (digitalarchive.wilsoncenter.org)."""

from __future__ import annotations

from harvester.sites.paged import PagedSource
from harvester.sites.wilson.fields import FIELD_ORDER, RECORD_FIELDS
from harvester.sites.wilson.listing import LISTING_PAGE_SIZE, Listing, listing_url, parse_listing
from harvester.sites.wilson.page import WilsonDocumentPage, is_challenge, parse_document

NAME = "wilson"
LIVE_BASE_URL = "https://digitalarchive.wilsoncenter.org"

# The source the engine harvests (registered in pyproject.toml's harvester.sources).
SOURCE = PagedSource(
    name=NAME, live_base_url=LIVE_BASE_URL, archive_name="Wilson Center Digital Archive",
    home_page=LIVE_BASE_URL + "/", listing_url=listing_url, parse_listing=parse_listing,
    parse_document=parse_document, is_challenge=is_challenge,
    listing_page_size=LISTING_PAGE_SIZE, newest_first=True, record_fields=RECORD_FIELDS,
    field_order=FIELD_ORDER,
)

__all__ = [
    "LISTING_PAGE_SIZE",
    "LIVE_BASE_URL",
    "NAME",
    "SOURCE",
    "Listing",
    "WilsonDocumentPage",
    "is_challenge",
    "listing_url",
    "parse_document",
    "parse_listing",
]
