"""The record: field order, content hash, finalisation and validation against the schema."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from harvester.exceptions import InvalidRecord, UnsafeKey
from harvester.keys import id_to_key_part

# The contract's field order (README "Record").
FIELDS = (
    "site", "record_id", "node_id", "url", "title", "date", "date_text", "summary", "texts",
    "authors", "places", "subjects", "people", "source", "original_archive", "rights",
    "uploaded", "type", "languages", "classification", "donors", "credits", "files",
    "content_sha256", "harvested_at", "status", "withdrawn_at",
)
# Lifecycle fields (status, withdrawn_at) are not content: a withdrawal keeps the hash.
NOT_CONTENT = frozenset({"content_sha256", "harvested_at", "status", "withdrawn_at"})
STATUSES = ("active", "withdrawn")


def content_sha256(record: dict[str, Any]) -> str:
    """Hash of the content fields: canonical JSON of every field but harvested_at,
    content_sha256 and the lifecycle fields (status, withdrawn_at), files reduced to their
    URLs (so it is known before any download)."""
    content = {k: v for k, v in record.items() if k not in NOT_CONTENT}
    if "files" in content:
        content["files"] = [f.get("url") if isinstance(f, dict) else f for f in content["files"]]
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def finalize(fields: dict[str, Any], *, site: str, harvested_at: str) -> dict[str, Any]:
    """The full record, in contract order: extracted fields plus site, content_sha256,
    harvested_at and the lifecycle fields (status "active", withdrawn_at null). Raises
    InvalidRecord (reason names the field) when it fails the schema."""
    record: dict[str, Any] = {"site": site}
    record.update(fields)
    record["content_sha256"] = content_sha256(record)
    record["harvested_at"] = harvested_at
    record.setdefault("status", "active")
    record.setdefault("withdrawn_at", None)
    ordered = {name: record[name] for name in FIELDS if name in record}
    ordered.update((k, v) for k, v in record.items() if k not in ordered)
    validate(ordered)
    return ordered


@cache
def _validator() -> Draft202012Validator:
    text = resources.files("harvester").joinpath("schema/record.schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate(record: dict[str, Any]) -> None:
    """Raise InvalidRecord, with a reason naming the field, unless the record is valid."""
    if not (_fast_path_applies() and _surely_valid(record)):
        errors = sorted(_validator().iter_errors(record), key=lambda e: [str(p) for p in e.path])
        if errors:
            raise InvalidRecord(_reason(errors[0]))
    try:
        id_to_key_part(record["record_id"])  # any id the schema takes, if it has a key
    except UnsafeKey as exc:
        raise InvalidRecord(f"record_id: {exc}"[:200]) from None


# --- fast path ------------------------------------------------------------------------
# jsonschema walks the schema for every record (~3 ms a record, more than extracting it).
# `_surely_valid` checks the same constraints in plain Python (~0.05 ms); it answers True
# only for records the schema certainly accepts (exact built-in types, the schema's own
# patterns with the same re.search), and anything else goes to jsonschema, which gives the
# verdict and the reason. tests/unit/test_record_validation.py checks both agree. It was
# written for one version of the schema: when the schema file changes, it stands aside.
_FAST_PATH_SCHEMA = "588255724158c8b7688d3f0576ffbae8f12677332ed72f32a8f29a14b8d566bb"
_SCHEMA_FIELDS = frozenset(FIELDS)
_TEXT_FIELDS = frozenset({"kind", "language", "text"})
_FILE_FIELDS = frozenset({"url", "key", "sha256", "size", "content_type"})
_KINDS = frozenset({"translation", "transcript", "original"})
_STATUSES = frozenset(STATUSES)
_LINE_MAX = 65536
_SITE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_RECORD_ID = re.compile(r"^(?![\s\S]*[\x00-\x1f\x7f-\x9f])\S(?:[\s\S]*\S)?$")
_RECORD_ID_MAX = 200
_NODE_ID = re.compile(r"^[0-9]{1,20}$")
_URL = re.compile(r"^(https?|file)://\S+$")
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HARVESTED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
_LINES = ("authors", "places", "subjects", "people", "original_archive", "languages", "donors")
_OPTIONAL_LINES = ("date_text", "type", "classification", "credits")
_OPTIONAL_TEXTS = ("summary", "source", "rights")


@cache
def _fast_path_applies() -> bool:
    schema = _validator().schema
    digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode("utf-8")).hexdigest()
    return digest == _FAST_PATH_SCHEMA


def _line(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= _LINE_MAX


def _matches(value: Any, pattern: re.Pattern[str]) -> bool:
    return type(value) is str and pattern.search(value) is not None


def _surely_valid(r: Any) -> bool:
    """True only when the record schema certainly accepts `r` (see above)."""
    if type(r) is not dict or r.keys() != _SCHEMA_FIELDS:
        return False
    if not (_matches(r["site"], _SITE) and _matches(r["record_id"], _RECORD_ID)
            and len(r["record_id"]) <= _RECORD_ID_MAX
            and (r["node_id"] is None or _matches(r["node_id"], _NODE_ID))
            and _matches(r["url"], _URL) and len(r["url"]) <= _LINE_MAX
            and _line(r["title"])
            and all(r[k] is None or _matches(r[k], _ISO_DATE) for k in ("date", "uploaded"))
            and all(r[k] is None or _line(r[k]) for k in _OPTIONAL_LINES)
            and all(r[k] is None or (type(r[k]) is str and r[k]) for k in _OPTIONAL_TEXTS)
            and _matches(r["content_sha256"], _SHA256)
            and _matches(r["harvested_at"], _HARVESTED_AT)
            and type(r["status"]) is str and r["status"] in _STATUSES
            and (r["withdrawn_at"] is None or _matches(r["withdrawn_at"], _HARVESTED_AT))):
        return False
    for name in _LINES:
        values = r[name]
        if type(values) is not list or not all(_line(v) for v in values):
            return False
    texts, files = r["texts"], r["files"]
    if type(texts) is not list or type(files) is not list:
        return False
    for t in texts:
        if not (type(t) is dict and t.keys() == _TEXT_FIELDS
                and type(t["kind"]) is str and t["kind"] in _KINDS
                and (t["language"] is None or _line(t["language"]))
                and type(t["text"]) is str and t["text"]):
            return False
    for f in files:
        if not (type(f) is dict and f.keys() == _FILE_FIELDS and _matches(f["url"], _URL)
                and (f["key"] is None or (type(f["key"]) is str and f["key"]))
                and (f["sha256"] is None or _matches(f["sha256"], _SHA256))
                and (f["size"] is None or (type(f["size"]) is int and f["size"] >= 0))
                and (f["content_type"] is None or type(f["content_type"]) is str)):
            return False
    return True


_MESSAGES = {
    "minLength": "must be a non-empty string",
    "maxLength": "is too long",
    "pattern": "has an invalid format",
    "enum": "is not one of the allowed values",
    "additionalProperties": "has an unknown field",
    "minimum": "must not be negative",
}


def _reason(error: ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "record"
    if error.validator == "required":
        instance: Any = error.instance
        required: Any = error.validator_value
        missing = [str(n) for n in required if not isinstance(instance, dict) or n not in instance]
        return f"{missing[0] if missing else path}: required field is missing"
    if error.validator == "type":
        expected = error.validator_value
        names = " or ".join(expected) if isinstance(expected, list) else str(expected)
        if names == "string" or names.startswith("string or"):
            names = names.replace("string", "a string", 1)
        return f"{path}: must be {names}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema: Any = error.schema
        allowed = set(schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in allowed)
        return f"{path}: unknown field {', '.join(extra)[:100]}"
    message = _MESSAGES.get(str(error.validator), f"fails {error.validator}")
    return f"{path}: {message}"
