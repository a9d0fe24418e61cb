"""Valid records, stores holding them, changes feeds and run reports, for export tests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvester.record import finalize
from harvester.runs import compose_changes, write_report
from harvester.state import HarvestState
from pipelines.storage import Store

SITE = "wilson"
RUN1 = "20240501T120000Z-aaaaaa01"
RUN2 = "20240502T120000Z-aaaaaa02"
RUN3 = "20240503T120000Z-aaaaaa03"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


@dataclass
class Populated:
    """A store holding records, and the latest version of each by record id."""

    uri: str
    store: Store
    records: dict[str, dict[str, Any]]
BASE = "https://digitalarchive.wilsoncenter.org"


def make_fields(record_id: str, title: str | None = None, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "record_id": record_id, "node_id": None,
        "url": f"{BASE}/document/{record_id}", "title": title or f"Telegram {record_id}",
        "date": "1962-10-27", "date_text": "October 27, 1962", "summary": "A summary.",
        "texts": [{"kind": "translation", "language": "English", "text": "Line one.\nTwo."}],
        "authors": ["Khrushchev, Nikita"], "places": ["Cuba", "Soviet Union"],
        "subjects": ["Cuban Missile Crisis"], "people": ["Kennedy, John F."],
        "source": "Archive of Foreign Policy", "original_archive": ["AVP RF"],
        "rights": "Terms of use apply.", "uploaded": "2011-11-15", "type": "Telegram",
        "languages": ["Russian"], "classification": "Top Secret", "donors": [],
        "credits": None, "files": [],
    }
    fields.update(overrides)
    return fields


def make_record(record_id: str, harvested_at: str = "2024-05-01T12:00:00Z",
                **overrides: Any) -> dict[str, Any]:
    return finalize(make_fields(record_id, **overrides), site=SITE, harvested_at=harvested_at)


def put_record(store: Store, record: dict[str, Any]) -> None:
    body = json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8")
    store.put(f"records/{SITE}/{record['record_id']}.json", body)


def put_file(store: Store, record_id: str, name: str, data: bytes) -> dict[str, Any]:
    key = f"files/{SITE}/{record_id}/{name}"
    store.put(key, data)
    return {"url": f"{BASE}/download/{record_id}/{name.replace(' ', '%20')}", "key": key,
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
            "content_type": "application/pdf"}


def put_run(store: Store, run_id: str, records: list[dict[str, Any]],
            change: str = "new") -> None:
    """A finished run that added (or changed) `records`: its report and changes feed."""
    lines = [{"record_id": r["record_id"], "change": change,
              "content_sha256": r["content_sha256"],
              "key": f"records/{SITE}/{r['record_id']}.json", "url": r["url"],
              "title": r["title"], "run_id": run_id, "harvested_at": r["harvested_at"]}
             for r in records]
    compose_changes(store, HarvestState(store, SITE), SITE, run_id, lines=lines)
    write_report(store, {"site": SITE, "run_id": run_id, "status": "finished"})


def bulk_local_store(root: Path, count: int) -> Path:
    """A local store of `count` small records, written directly as files (fast)."""
    folder = root / "records" / SITE
    folder.mkdir(parents=True, exist_ok=True)
    (root / ".tmp").mkdir(exist_ok=True)
    template = make_record("1")
    for n in range(count):
        record = dict(template, record_id=str(100000 + n),
                      url=f"{BASE}/document/{100000 + n}", title=f"Document {n}")
        (folder / f"{100000 + n}.json").write_text(json.dumps(record), encoding="utf-8")
    return root
