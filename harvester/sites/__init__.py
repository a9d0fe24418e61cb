"""Source packages, one per archive (harvester.sites.wilson), and helpers for writing them
(paged.py: a listing paged by numbers; htmltext.py: text out of HTML).

Sources are looked up by name in harvester.registry; `get_site` is its older name."""

from __future__ import annotations

from harvester.registry import get_source as get_site
from harvester.source import Source as Site

__all__ = ["Site", "get_site"]
