"""The record: field order, content hash, finalisation and validation against the schema."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from harvester.exceptions import InvalidRecord, UnsafeKey
from harvester.keys import check_record_id

# The contract's field order (README "Record").
FIELDS = (
    "site", "record_id", "node_id", "url", "title", "date", "date_text", "summary", "texts",
    "authors", "places", "subjects", "people", "source", "original_archive", "rights",
    "uploaded", "type", "languages", "classification", "donors", "credits", "files",
    "content_sha256", "harvested_at",
)
NOT_CONTENT = frozenset({"content_sha256", "harvested_at"})


def content_sha256(record: dict[str, Any]) -> str:
    """Hash of the content fields: canonical JSON of every field but harvested_at and
    content_sha256, files reduced to their URLs (so it is known before any download)."""
    content = {k: v for k, v in record.items() if k not in NOT_CONTENT}
    if "files" in content:
        content["files"] = [f.get("url") if isinstance(f, dict) else f for f in content["files"]]
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def finalize(fields: dict[str, Any], *, site: str, harvested_at: str) -> dict[str, Any]:
    """The full record, in contract order: extracted fields plus site, content_sha256 and
    harvested_at. Raises InvalidRecord (reason names the field) when it fails the schema."""
    record: dict[str, Any] = {"site": site}
    record.update(fields)
    record["content_sha256"] = content_sha256(record)
    record["harvested_at"] = harvested_at
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
    errors = sorted(_validator().iter_errors(record), key=lambda e: [str(p) for p in e.path])
    if errors:
        raise InvalidRecord(_reason(errors[0]))
    try:
        check_record_id(record["record_id"])
    except UnsafeKey as exc:
        raise InvalidRecord(f"record_id: {exc}"[:200]) from None


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
