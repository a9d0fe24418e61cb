"""`harvester verify [--store URI]`: an integrity check of a store.

Every record parses, validates against the schema, sits under its own Record ID and has the
content hash of its content; every stored file exists with the recorded sha256 and size;
every superseded version (and every replaced file's kept bytes) is named by its hash. Exit
status 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from typing import Any

from harvester.exceptions import InvalidRecord
from harvester.keys import (
    file_version_sha,
    record_key,
    record_prefix,
    version_name_sha,
    versions_prefix,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("verify", help="check a store's integrity (schema, checksums, files)")
    p.add_argument("--store", default="./harvest-data", help="store URI (default ./harvest-data)")
    p.add_argument("--site", default=None, help="only this site")
    p.add_argument("--no-files", action="store_true", help="skip reading the files back")
    p.set_defaults(run=run)


def verify_record(store: Any, site: str, key: str, check_files: bool) -> tuple[list[str], int]:
    """Problems found with one record (and its files); and the number of files checked."""
    from harvester.record import content_sha256, validate

    problems: list[str] = []
    data = store.get(key)
    if data is None:
        return [f"{key}: listed but unreadable"], 0
    try:
        record = json.loads(data)
        # a record stored before the lifecycle fields existed is active; the next fetch of
        # its page rewrites it with them (see pipelines/dedup.py)
        validate({"status": "active", "withdrawn_at": None, **record})
    except (ValueError, InvalidRecord) as exc:
        return [f"{key}: invalid record: {exc}"], 0
    if key != record_key(site, record["record_id"]):
        problems.append(f"{key}: holds record {record['record_id']!r}")
    if content_sha256(record) != record["content_sha256"]:
        problems.append(f"{key}: content_sha256 does not match the content")
    checked = 0
    for entry in record.get("files") or []:
        if not entry.get("key") or not check_files:
            continue
        body = store.get(entry["key"])
        checked += 1
        if body is None:
            problems.append(f"{key}: file {entry['key']} is missing")
        elif hashlib.sha256(body).hexdigest() != entry.get("sha256") or len(body) != entry.get("size"):
            problems.append(f"{key}: file {entry['key']} does not match its sha256/size")
    return problems, checked


def verify_versions(store: Any, site: str) -> tuple[list[str], int]:
    from harvester.record import content_sha256

    problems, n = [], 0
    for key in store.list(versions_prefix(site)):
        n += 1
        data = store.get(key)
        kept_sha = file_version_sha(key)
        if kept_sha:  # a replaced file's earlier bytes: named by their sha256
            if data is None or hashlib.sha256(data).hexdigest() != kept_sha:
                problems.append(f"{key}: kept file does not match the sha256 it is named by")
            continue
        try:
            record = json.loads(data or b"")
        except ValueError:
            problems.append(f"{key}: not JSON")
            continue
        # <sha>.json, or <sha>.withdrawn-<time>.json for a withdrawn version (restored since)
        if version_name_sha(key.rsplit("/", 1)[-1]) != content_sha256(record):
            problems.append(f"{key}: name does not match the version's content hash")
    return problems, n


def run(args: argparse.Namespace) -> int:
    from harvester.commands.status import sites_in
    from harvester.sourcesfile import register_stored
    from pipelines.storage import open_store

    store = open_store(args.store)
    sites = [args.site] if args.site else sites_in(store)
    problems: list[str] = []
    records = files = versions = 0
    for site in sites:
        register_stored(store, site)  # a source built at run time (OAI-PMH) knows its fields
        for key in store.list(record_prefix(site)):
            if not key.endswith(".json"):
                continue
            records += 1
            found, checked = verify_record(store, site, key, not args.no_files)
            problems += found
            files += checked
        found, n = verify_versions(store, site)
        problems += found
        versions += n
    for problem in problems:
        print(f"PROBLEM {problem}")
    verdict = "OK" if not problems else f"{len(problems)} problems"
    print(f"verified {records} records, {files} files, {versions} earlier versions "
          f"in {args.store}: {verdict}")
    return 0 if not problems else 1
