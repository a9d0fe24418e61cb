"""BagIt export: a BagIt 1.0 bag of the records and their files (bagit library).

    <out>/bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt,
          tagmanifest-sha256.txt, tagmanifest-sha512.txt
    <out>/data/records/<record_id>.json
    <out>/data/files/<record_id>/<file name>

Records and files are streamed into <out> one at a time, then `bagit.make_bag`
moves them under data/ and writes the manifests (it keeps one line per file in
memory, not the files; it changes the process's working directory while it runs).
bag-info.txt names the archive (Source-Organization, External-Description), the
harvest dates of the records (Harvest-Start-Date, Harvest-End-Date: first and last
harvested_at), Record-Count and File-Count; bagit adds Bagging-Date, Payload-Oxum
and Bag-Software-Agent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bagit

from harvester.exceptions import ConfigError
from harvester.export.source import archive_of
from harvester.keys import is_safe_record_id, safe_file_name
from pipelines.storage import Store

log = logging.getLogger(__name__)

CHECKSUMS = ["sha256", "sha512"]
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


@dataclass
class BagSummary:
    records: int = 0
    files: int = 0
    missing_files: int = 0
    first_harvest: str | None = None
    last_harvest: str | None = None

    def saw(self, harvested_at: object) -> None:
        if not isinstance(harvested_at, str) or not harvested_at:
            return
        if self.first_harvest is None or harvested_at < self.first_harvest:
            self.first_harvest = harvested_at
        if self.last_harvest is None or harvested_at > self.last_harvest:
            self.last_harvest = harvested_at


def export_bag(store: Store, site: str, records: Iterable[dict[str, Any]], out: str | Path,
               *, since: str | None = None) -> BagSummary:
    """Write a bag of `records` (and their stored files) at `out`, a new or empty folder."""
    folder = Path(out)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"--out {folder} exists and is not an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    summary = BagSummary()
    for record in records:
        record_id = record.get("record_id")
        if not is_safe_record_id(record_id):
            continue
        _write(folder / "records" / f"{record_id}.json",
               json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
        summary.records += 1
        summary.saw(record.get("harvested_at"))
        for entry in record.get("files") or []:
            _copy_file(store, folder / "files" / str(record_id), entry, summary)
    bag = bagit.make_bag(str(folder), bag_info(site, summary, since), checksums=CHECKSUMS)
    _declare_version_1_0(bag)
    return summary


def _declare_version_1_0(bag: bagit.Bag) -> None:
    """bagit-python's make_bag writes "BagIt-Version: 0.97"; the bag's layout is also valid
    BagIt 1.0 (RFC 8493), so declare that and rewrite the tag manifests."""
    (Path(bag.path) / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    bag.save(manifests=False)


def bag_info(site: str, summary: BagSummary, since: str | None) -> dict[str, str]:
    name, home = archive_of(site)
    info = {
        "Source-Organization": name,
        "External-Description": (
            f"Records harvested from the {name}" + (f" ({home})" if home else "")
            + " by archive-harvester: one JSON record per document (data/records/) and the"
            " document's files (data/files/<record_id>/)."),
        "External-Identifier": f"archive-harvester:{site}",
        "Record-Count": str(summary.records),
        "File-Count": str(summary.files),
    }
    if summary.first_harvest:
        info["Harvest-Start-Date"] = summary.first_harvest
    if summary.last_harvest:
        info["Harvest-End-Date"] = summary.last_harvest
    if since:
        info["Changed-Since"] = since
    if summary.missing_files:
        info["Files-Missing"] = str(summary.missing_files)
    return info


def _copy_file(store: Store, folder: Path, entry: Any, summary: BagSummary) -> None:
    key = entry.get("key") if isinstance(entry, dict) else None
    if not isinstance(key, str) or not key:
        return  # never downloaded
    data = store.get(key)
    if data is None:
        log.warning("file %s named by a record is not in the store", key)
        summary.missing_files += 1
        return
    _write(folder / safe_file_name(key.rsplit("/", 1)[-1], f"{folder.name}.pdf"), data)
    summary.files += 1


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
