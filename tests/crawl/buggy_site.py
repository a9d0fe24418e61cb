"""A Wilson extractor with a bug on one page, for crawl tests: `parse_document` raises
KeyError for the URL containing $BUGGY_URL_PART. `run(argv)` runs the harvester CLI with
it. Import this module to call run() (not `python -m`): the extraction worker imports it by
name, from PYTHONPATH, to run its parse_document too."""

from __future__ import annotations

import os
from typing import Any

import harvester.sites.wilson as wilson

_real = wilson.parse_document


def parse_document(body: bytes, url: str, **kwargs: Any) -> dict[str, Any]:
    if os.environ.get("BUGGY_URL_PART", "\0") in url:
        return {}["a field the extractor forgot"]  # type: ignore[no-any-return]
    return _real(body, url, **kwargs)


def run(argv: list[str]) -> int:
    from harvester.cli import main

    wilson.parse_document = parse_document  # type: ignore[assignment]
    return int(main(argv) or 0)
