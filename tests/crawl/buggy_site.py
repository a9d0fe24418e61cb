"""A Wilson source with a bug on one page, for crawl tests: `parse_document` and
`parse_listing` raise KeyError for a URL containing $BUGGY_URL_PART. `run(argv)` registers it
as the source "wilson" (harvester.registry.add) and runs the harvester CLI with it. Import
this module to call run() (not `python -m`): the extraction worker imports it by name, from
PYTHONPATH, to run its functions too."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import harvester.sites.wilson as wilson

_real_document, _real_listing = wilson.parse_document, wilson.parse_listing


def _broken(url: str) -> bool:
    return os.environ.get("BUGGY_URL_PART", "\0") in url


def parse_document(body: bytes, url: str, **kwargs: Any) -> dict[str, Any]:
    if _broken(url):
        return {}["a field the extractor forgot"]  # type: ignore[no-any-return]
    return _real_document(body, url, **kwargs)


def parse_listing(body: bytes, url: str, **kwargs: Any) -> Any:
    if _broken(url):
        return {}["a field the extractor forgot"]
    return _real_listing(body, url, **kwargs)


SOURCE = dataclasses.replace(wilson.SOURCE, parse_document=parse_document,
                             parse_listing=parse_listing)


def run(argv: list[str]) -> int:
    from harvester import registry
    from harvester.cli import main

    registry.add(SOURCE)
    return int(main(argv) or 0)
