"""Storage keys of the store layout (see README "Store layout").

Every key is built here, from validated parts only: a record id or file name
taken from a page is checked, never trusted, so no key can leave the record's
own place (no "..", no slashes, no control characters).
"""

from __future__ import annotations

import hashlib
import re

from harvester.exceptions import UnsafeKey

_SITE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_RECORD_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ ()+,-]{0,150}$")
_RUN_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6,12}$")


def check_site(site: str) -> str:
    if not isinstance(site, str) or not _SITE_RE.fullmatch(site):
        raise UnsafeKey(f"unsafe site name: {site!r}")
    return site


def check_record_id(record_id: str) -> str:
    """Return the record id when it is safe as one key segment, else raise UnsafeKey."""
    if not isinstance(record_id, str) or not _RECORD_ID_RE.fullmatch(record_id):
        raise UnsafeKey(f"unsafe record id: {record_id!r}")
    if ".." in record_id:
        raise UnsafeKey(f"unsafe record id: {record_id!r}")
    return record_id


def is_safe_record_id(record_id: object) -> bool:
    try:
        check_record_id(record_id)  # type: ignore[arg-type]
    except UnsafeKey:
        return False
    return True


def safe_file_name(name: str, fallback: str) -> str:
    """A file name usable as the last key segment: the given one when safe, else `fallback`."""
    name = name.rsplit("/", 1)[-1] if isinstance(name, str) else ""
    if _FILE_NAME_RE.fullmatch(name) and ".." not in name:
        return name
    check_record_id(fallback)
    return fallback


def check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise UnsafeKey(f"unsafe run id: {run_id!r}")
    return run_id


def url_digest(url: str) -> str:
    """A short stable digest of a URL, used for per-URL state keys."""
    return hashlib.sha256(url.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]


def record_key(site: str, record_id: str) -> str:
    return f"records/{check_site(site)}/{check_record_id(record_id)}.json"


def version_key(site: str, record_id: str, content_sha256: str) -> str:
    """Where a superseded version of a record is kept (issue 3)."""
    _check_hex(content_sha256)
    return f"versions/{check_site(site)}/{check_record_id(record_id)}/{content_sha256}.json"


_STAMP_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$")


def withdrawn_version_key(site: str, record_id: str, content_sha256: str,
                          withdrawn_at: str) -> str:
    """Where the withdrawn version of a record is kept once it is restored: its content hash
    equals the restored record's, so it carries its withdrawal time beside the hash
    (versions/<site>/<id>/<sha256>.withdrawn-<YYYYMMDDTHHMMSSZ>.json)."""
    _check_hex(content_sha256)
    m = _STAMP_RE.fullmatch(withdrawn_at) if isinstance(withdrawn_at, str) else None
    if m is None:
        raise UnsafeKey(f"not an ISO 8601 UTC time: {withdrawn_at!r}")
    stamp = "{}{}{}T{}{}{}Z".format(*m.groups())
    return (f"versions/{check_site(site)}/{check_record_id(record_id)}/"
            f"{content_sha256}.withdrawn-{stamp}.json")


def version_name_sha(name: str) -> str:
    """The content hash a version object's name carries (`<sha>.json` or
    `<sha>.withdrawn-<stamp>.json`); "" when the name is neither."""
    m = re.fullmatch(r"([0-9a-f]{64})(?:\.withdrawn-\d{8}T\d{6}Z)?\.json", name)
    return m.group(1) if m else ""


def missing_key(site: str, record_id: str) -> str:
    """The missing mark of a record whose page answered 404 (state/<site>/missing/<id>.json)."""
    return state_key(site, "missing", check_record_id(record_id) + ".json")


def file_key(site: str, record_id: str, file_name: str) -> str:
    rid = check_record_id(record_id)
    return f"files/{check_site(site)}/{rid}/{safe_file_name(file_name, rid + '.pdf')}"


def run_report_key(site: str, run_id: str) -> str:
    return f"runs/{check_site(site)}/{check_run_id(run_id)}.json"


def changes_key(site: str, run_id: str) -> str:
    return f"runs/{check_site(site)}/{check_run_id(run_id)}.changes.jsonl"


def quarantine_key(site: str, url: str, suffix: str) -> str:
    if suffix not in {"json", "html"}:
        raise UnsafeKey(f"unsafe quarantine suffix: {suffix!r}")
    return f"quarantine/{check_site(site)}/{url_digest(url)}.{suffix}"


def raw_key(site: str, name: str) -> str:
    if not isinstance(name, str) or not _FILE_NAME_RE.fullmatch(name) or ".." in name:
        raise UnsafeKey(f"unsafe raw capture name: {name!r}")
    return f"raw/{check_site(site)}/{name}"


def state_key(site: str, *parts: str) -> str:
    for part in parts:
        if not isinstance(part, str) or not _FILE_NAME_RE.fullmatch(part) or ".." in part:
            raise UnsafeKey(f"unsafe state key part: {part!r}")
    return "/".join(("state", check_site(site), *parts))


def _check_hex(value: str) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise UnsafeKey(f"not a sha256 hex digest: {value!r}")
