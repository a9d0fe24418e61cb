"""Quarantine: pages that could not be turned into a valid record, kept with the reason."""

from __future__ import annotations

import json

from harvester.keys import quarantine_key
from pipelines.storage import Store


def quarantine(
    store: Store, site: str, url: str, reason: str, error: str, body: bytes, run_id: str, at: str
) -> str:
    """Store the page and a JSON note with its reason; returns the note's key."""
    note_key = quarantine_key(site, url, "json")
    body_key = quarantine_key(site, url, "html")
    note = {
        "url": url,
        "reason": reason[:2000],
        "error": error,
        "run_id": run_id,
        "at": at,
        "size": len(body),
        "body_key": body_key,
    }
    store.put(body_key, body[: 16 * 1024 * 1024], content_type="text/html")
    store.put(note_key, json.dumps(note, ensure_ascii=False).encode(), content_type="application/json")
    return note_key
