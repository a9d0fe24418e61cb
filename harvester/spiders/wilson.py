"""The Wilson Center Digital Archive spider (digitalarchive.wilsoncenter.org)."""

from __future__ import annotations

from harvester.spiders.base import ArchiveSpider


class WilsonSpider(ArchiveSpider):
    name = "wilson"
