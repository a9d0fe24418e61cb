"""The site registry: one extractor package per archive, looked up by name."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harvester.exceptions import ConfigError

# site name -> package in harvester.sites exposing NAME, LIVE_BASE_URL, parse_document,
# parse_listing, listing_url, LISTING_PAGE_SIZE and is_challenge
SITES = {"wilson": "harvester.sites.wilson"}


@dataclass(frozen=True)
class Site:
    """One archive's extractor: what a spider or command needs to read its pages."""

    name: str
    live_base_url: str
    parse_document: Callable[..., dict[str, Any]]
    parse_listing: Callable[..., Any]
    is_challenge: Callable[[bytes], bool]
    listing_url: Callable[..., str]  # (base URL, page from 0[, page size]) -> listing URL
    listing_page_size: int  # results a listing page is asked for


def get_site(name: str) -> Site:
    """The registered site called `name`; ConfigError for an unknown name."""
    if name not in SITES:
        known = ", ".join(sorted(SITES))
        raise ConfigError(f"unknown site {name!r} (known: {known})")
    module = importlib.import_module(SITES[name])
    return Site(
        name=module.NAME,
        live_base_url=module.LIVE_BASE_URL,
        parse_document=module.parse_document,
        parse_listing=module.parse_listing,
        is_challenge=module.is_challenge,
        listing_url=module.listing_url,
        listing_page_size=module.LISTING_PAGE_SIZE,
    )
