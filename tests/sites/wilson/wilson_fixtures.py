from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wilson"


def load_case(name: str) -> tuple[bytes, str, dict]:
    case = FIXTURES / name
    body = (case / "input.html").read_bytes()
    url = (case / "url.txt").read_text("utf-8").strip()
    expected = json.loads((case / "output.json").read_text("utf-8"))
    return body, url, expected


def case_names(kind: str) -> list[str]:
    """Fixture cases whose output.json is a record ("record"), an error ("error") or a listing."""
    names = []
    for case in sorted(p for p in FIXTURES.iterdir() if (p / "output.json").exists()):
        expected = json.loads((case / "output.json").read_text("utf-8"))
        found = "record"
        if "error" in expected:
            found = "error"
        elif "document_urls" in expected:
            found = "listing"
        if found == kind:
            names.append(case.name)
    return names
