"""The Wilson Center Digital Archive (digitalarchive.wilsoncenter.org)."""

from __future__ import annotations

from harvester.sites.wilson.listing import LISTING_PAGE_SIZE, Listing, listing_url, parse_listing
from harvester.sites.wilson.page import WilsonDocumentPage, is_challenge, parse_document

NAME = "wilson"
LIVE_BASE_URL = "https://digitalarchive.wilsoncenter.org"

__all__ = [
    "LISTING_PAGE_SIZE",
    "LIVE_BASE_URL",
    "NAME",
    "Listing",
    "WilsonDocumentPage",
    "is_challenge",
    "listing_url",
    "parse_document",
    "parse_listing",
]
