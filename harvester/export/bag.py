"""BagIt export: a BagIt 1.0 bag (RFC 8493) of the records and their files.

    <out>/bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt,
          tagmanifest-sha256.txt, tagmanifest-sha512.txt
    <out>/data/records/<record_id>.json
    <out>/data/files/<record_id>/<file name>

(<record_id> as in the store's keys: a plain id as it is, any other escaped, see
harvester.keys.id_to_key_part.)

Written as a stream: each record and file goes to data/ and its sha256 and sha512
lines are appended to the manifests at once, so memory does not grow with the
bag and no file is read twice. (bagit-python's `make_bag` would re-read every
file, hold every manifest line in memory and declare BagIt 0.97.) The bags
validate with `bagit.Bag(path).validate()`.

bag-info.txt names the archive (Source-Organization, External-Description), the
harvest dates of the records (Harvest-Start-Date, Harvest-End-Date: first and
last harvested_at), Record-Count and File-Count (and Withdrawn-Count, the records with
status "withdrawn" a --since or --include-withdrawn bag holds), with Bagging-Date, Payload-Oxum
and Bag-Software-Agent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from harvester import __version__
from harvester.exceptions import ConfigError
from harvester.export.source import archive_of
from harvester.keys import fallback_file_name, id_to_key_part, is_record_id, safe_file_name
from pipelines.storage import Store

log = logging.getLogger(__name__)

CHECKSUMS = ("sha256", "sha512")
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


@dataclass
class BagSummary:
    records: int = 0
    files: int = 0
    missing_files: int = 0
    withdrawn: int = 0  # records with status "withdrawn" (a --since bag, --include-withdrawn)
    first_harvest: str | None = None
    last_harvest: str | None = None

    def saw(self, harvested_at: object) -> None:
        if not isinstance(harvested_at, str) or not harvested_at:
            return
        if self.first_harvest is None or harvested_at < self.first_harvest:
            self.first_harvest = harvested_at
        if self.last_harvest is None or harvested_at > self.last_harvest:
            self.last_harvest = harvested_at


def manifest_path(relative: str) -> str:
    """A payload path as a manifest writes it (RFC 8493: %, CR and LF percent-encoded)."""
    return relative.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


class BagWriter:
    """Payload files added one by one, manifests appended as they come; `finish` seals."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bytes = 0
        self.count = 0
        (root / "data").mkdir(parents=True)
        self._manifests: dict[str, IO[str]] = {
            alg: open(root / f"manifest-{alg}.txt", "w", encoding="utf-8", newline="\n")  # noqa: SIM115
            for alg in CHECKSUMS
        }

    def add(self, relative: str, data: bytes) -> None:
        """Write `data` at data/<relative> and list it in every manifest."""
        path = self.root / "data" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        for alg, manifest in self._manifests.items():
            manifest.write(f"{hashlib.new(alg, data).hexdigest()} "
                           f"{manifest_path('data/' + relative)}\n")
        self.bytes += len(data)
        self.count += 1

    def finish(self, info: dict[str, str]) -> None:
        self.close()
        info = {**info, "Bagging-Date": datetime.now(UTC).date().isoformat(),
                "Bag-Software-Agent": f"archive-harvester {__version__}",
                "Payload-Oxum": f"{self.bytes}.{self.count}"}
        (self.root / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
        (self.root / "bag-info.txt").write_text(
            "".join(f"{label}: {_one_line(value)}\n" for label, value in info.items()),
            encoding="utf-8")
        tag_files = ["bagit.txt", "bag-info.txt", *(f"manifest-{alg}.txt" for alg in CHECKSUMS)]
        for alg in CHECKSUMS:
            lines = [f"{_file_digest(self.root / name, alg)} {name}\n" for name in tag_files]
            (self.root / f"tagmanifest-{alg}.txt").write_text("".join(lines), encoding="utf-8")

    def close(self) -> None:
        for manifest in self._manifests.values():
            manifest.close()


def export_bag(store: Store, site: str, records: Iterable[dict[str, Any]], out: str | Path,
               *, since: str | None = None) -> BagSummary:
    """Write a bag of `records` (and their stored files) at `out`, a new or empty folder."""
    folder = Path(out)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"--out {folder} exists and is not an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    bag = BagWriter(folder)
    summary = BagSummary()
    try:
        for record in records:
            record_id = record.get("record_id")
            if not is_record_id(record_id):
                continue
            bag.add(f"records/{id_to_key_part(record_id)}.json",
                    json.dumps(record, ensure_ascii=False).encode("utf-8"))
            summary.records += 1
            summary.withdrawn += record.get("status") == "withdrawn"
            summary.saw(record.get("harvested_at"))
            for entry in record.get("files") or []:
                _copy_file(store, bag, str(record_id), entry, summary)
        bag.finish(bag_info(site, summary, since))
    finally:
        bag.close()
    return summary


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
    if summary.withdrawn:
        info["Withdrawn-Count"] = str(summary.withdrawn)
    if summary.missing_files:
        info["Files-Missing"] = str(summary.missing_files)
    return info


def _copy_file(store: Store, bag: BagWriter, record_id: str, entry: Any,
               summary: BagSummary) -> None:
    key = entry.get("key") if isinstance(entry, dict) else None
    if not isinstance(key, str) or not key:
        return  # never downloaded
    data = store.get(key)
    if data is None:
        log.warning("file %s named by a record is not in the store", key)
        summary.missing_files += 1
        return
    name = safe_file_name(key.rsplit("/", 1)[-1], fallback_file_name(record_id))
    bag.add(f"files/{id_to_key_part(record_id)}/{name}", data)
    summary.files += 1


def _one_line(value: str) -> str:
    return " ".join(str(value).split())


def _file_digest(path: Path, algorithm: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()
