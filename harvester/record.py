"""The record: the core schema and each source's fields on top, field order, content hash,
finalisation and validation."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when a record first needs it (~0.1 s at start-up)
    from jsonschema import Draft202012Validator, ValidationError

from harvester import jsontext
from harvester.exceptions import InvalidRecord, UnsafeKey
from harvester.keys import id_to_key_part

# Fields of every record that are not content: a withdrawal keeps the hash.
NOT_CONTENT = frozenset({"content_sha256", "harvested_at", "status", "withdrawn_at"})
# Fields a run report's coverage leaves out: every record has them by construction.
NOT_COVERED = frozenset({"site", "record_id", "url"}) | NOT_CONTENT
STATUSES = ("active", "withdrawn")


@cache
def core_schema() -> dict[str, Any]:
    """The core schema (harvester/schema/record.schema.json): the fields of every record."""
    # read beside this module when the package is a folder; importlib.resources (~4 ms of
    # every process to import) only when it is not (a zip, a loader of another kind)
    path = os.path.join(os.path.dirname(__file__), "schema", "record.schema.json")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        from importlib import resources

        text = resources.files("harvester").joinpath("schema/record.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


CORE_FIELDS = tuple(core_schema()["properties"])


class RecordSchema:
    """The records of one source: the core schema with the source's own fields on top. The
    field order, the coverage fields and the fast validation path all derive from it."""

    def __init__(self, own: Mapping[str, Any] | None = None,
                 order: tuple[str, ...] = ()) -> None:
        core = core_schema()
        own = dict(own or {})
        clash = sorted(set(own) & set(core["properties"]))
        if clash:
            raise ValueError(f"source fields {', '.join(clash)} are core fields")
        schema = dict(core, properties={**core["properties"], **own},
                      required=[*core["required"], *own])
        self.schema = schema
        self._validator: Draft202012Validator | None = None
        names = tuple(schema["properties"])
        if order:
            if sorted(order) != sorted(names):
                raise ValueError("field_order must name every field of the schema once")
            names = tuple(order)
        self.fields = names
        self.coverage_fields = tuple(n for n in names if n not in NOT_COVERED)
        self._names = frozenset(names)
        checks = [(n, _fast_check(schema["properties"][n])) for n in names]
        self.fast = _fast_path_applies() and all(c is not None for _, c in checks)
        self._checks = [(n, c) for n, c in checks if c is not None]

    @property
    def validator(self) -> Draft202012Validator:
        """jsonschema's validator of the schema, made (and the schema checked) on first use:
        records the fast path accepts never need it."""
        if self._validator is None:
            from jsonschema import Draft202012Validator

            Draft202012Validator.check_schema(self.schema)
            self._validator = Draft202012Validator(self.schema)
        return self._validator

    def ordered(self, record: dict[str, Any]) -> dict[str, Any]:
        out = {name: record[name] for name in self.fields if name in record}
        out.update((k, v) for k, v in record.items() if k not in out)
        return out

    def surely_valid(self, r: Any) -> bool:
        """True only when the schema certainly accepts `r` (see _fast_check)."""
        if type(r) is not dict or r.keys() != self._names:
            return False
        return all(check(r[name]) for name, check in self._checks)

    def validate(self, record: dict[str, Any]) -> None:
        """Raise InvalidRecord, with a reason naming the field, unless the record is valid."""
        if not (self.fast and self.surely_valid(record)):
            errors = sorted(self.validator.iter_errors(record),
                            key=lambda e: [str(p) for p in e.path])
            if errors:
                raise InvalidRecord(_reason(errors[0]))
        try:
            id_to_key_part(record["record_id"])  # any id the schema takes, if it has a key
        except UnsafeKey as exc:
            raise InvalidRecord(f"record_id: {exc}"[:200]) from None


@cache
def _schema_of(site: str) -> RecordSchema:
    from harvester.exceptions import ConfigError
    from harvester.registry import get_source

    try:
        source = get_source(site)
    except ConfigError:  # a source not installed here: its records checked by the core
        return RecordSchema()
    return RecordSchema(source.record_fields, tuple(getattr(source, "field_order", ()) or ()))


def record_schema(site: str) -> RecordSchema:
    """The schema of source `site`'s records (the core alone for an unknown source)."""
    return _schema_of(site)


_SCHEMAS: dict[str, RecordSchema] = {}


def source_schema(source: Any) -> RecordSchema:
    """The schema of `source`'s records, made from the source object itself (what
    record_schema(source.name) gives in the process that registered it; an extraction
    worker has no registry), one per distinct set of source fields and order."""
    fields = dict(getattr(source, "record_fields", None) or {})
    order = tuple(getattr(source, "field_order", ()) or ())
    key = json.dumps([fields, order], sort_keys=True, default=str)
    schema = _SCHEMAS.get(key)
    if schema is None:
        schema = _SCHEMAS[key] = RecordSchema(fields, order)
    return schema


def encode_record(record: dict[str, Any]) -> bytes:
    """The record as stored: one line, by json's C encoder (indent= makes json fall back to
    its Python encoder: a quarter of a millisecond a record, the largest single cost of
    storing one)."""
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def content_sha256(record: dict[str, Any]) -> str:
    """Hash of the content fields: canonical JSON of every field but harvested_at,
    content_sha256 and the lifecycle fields (status, withdrawn_at), files reduced to their
    URLs (so it is known before any download)."""
    content = {k: v for k, v in record.items() if k not in NOT_CONTENT}
    if "files" in content:
        content["files"] = [f.get("url") if isinstance(f, dict) else f for f in content["files"]]
    # json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)'s text,
    # its long strings kept escaped for the record's JSON line (harvester.jsontext)
    data = jsontext.dumps(content, canonical=True)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def finalize(fields: dict[str, Any], *, site: str, harvested_at: str,
             schema: RecordSchema | None = None) -> dict[str, Any]:
    """The full record, in its source's field order: extracted fields plus site,
    content_sha256, harvested_at and the lifecycle fields (status "active", withdrawn_at
    null). Raises InvalidRecord (reason names the field) when it fails the schema (`schema`:
    the source's, default record_schema(site))."""
    record: dict[str, Any] = {"site": site}
    record.update(fields)
    record["content_sha256"] = content_sha256(record)
    record["harvested_at"] = harvested_at
    record.setdefault("status", "active")
    record.setdefault("withdrawn_at", None)
    schema = schema or record_schema(site)
    ordered = schema.ordered(record)
    schema.validate(ordered)
    return ordered


def validate(record: dict[str, Any]) -> None:
    """Raise InvalidRecord, with a reason naming the field, unless the record is valid for
    the schema of its source (record["site"])."""
    site = record.get("site") if isinstance(record, dict) else None
    record_schema(site if isinstance(site, str) else "").validate(record)


# --- fast path ------------------------------------------------------------------------
# jsonschema walks the schema for every record (~3 ms a record, more than extracting it).
# The fast path checks the same constraints in plain Python (~0.05 ms); it answers True
# only for records the schema certainly accepts (exact built-in types, the schema's own
# patterns with the same re.search), and anything else goes to jsonschema, which gives the
# verdict and the reason. tests/test_record_fastpath.py checks both agree. Each field's
# check is chosen by the shape of its schema ($ref to a core $def, a string pattern, the
# core's texts, files and status); a field of another shape turns the fast path off for
# that source. It was written for one version of the core schema: when the core schema
# file changes, it stands aside until _FAST_PATH_SCHEMA is updated with it.
_FAST_PATH_SCHEMA = "ff1cbef41abc89a3d9f42ab44197c245f9f20681f7db1d412a57faa1395c298e"
_LINE_MAX = 65536
_URL = re.compile(r"^(https?|file)://\S+$")
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TEXT_FIELDS = frozenset({"kind", "language", "text"})
_FILE_FIELDS = frozenset({"url", "key", "sha256", "size", "content_type"})
_KINDS = frozenset({"translation", "transcript", "original"})


def _schema_digest(schema: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode("utf-8")).hexdigest()


@cache
def _fast_path_applies() -> bool:
    return _schema_digest(core_schema()) == _FAST_PATH_SCHEMA


def _line(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= _LINE_MAX


def _text(value: Any) -> bool:
    return type(value) is str and bool(value)


def _matches(value: Any, pattern: re.Pattern[str]) -> bool:
    return type(value) is str and pattern.search(value) is not None


def _string_map(value: Any) -> bool:
    """An object of strings (an OAI-PMH source's raw metadata by metadataPrefix)."""
    return type(value) is dict and all(type(k) is str and type(v) is str
                                       for k, v in value.items())


def _lines(values: Any) -> bool:
    return type(values) is list and all(_line(v) for v in values)


def _texts(texts: Any) -> bool:
    return type(texts) is list and all(
        type(t) is dict and t.keys() == _TEXT_FIELDS and type(t["kind"]) is str
        and t["kind"] in _KINDS and (t["language"] is None or _line(t["language"]))
        and _text(t["text"]) for t in texts)


def _files(files: Any) -> bool:
    return type(files) is list and all(
        type(f) is dict and f.keys() == _FILE_FIELDS and _matches(f["url"], _URL)
        and (f["key"] is None or _text(f["key"]))
        and (f["sha256"] is None or _matches(f["sha256"], _SHA256))
        and (f["size"] is None or (type(f["size"]) is int and f["size"] >= 0))
        and (f["content_type"] is None or type(f["content_type"]) is str) for f in files)


_BY_REF: dict[str, Callable[[Any], bool]] = {
    "#/$defs/text": _text,
    "#/$defs/line": _line,
    "#/$defs/optionalText": lambda v: v is None or _text(v),
    "#/$defs/optionalLine": lambda v: v is None or _line(v),
    "#/$defs/strings": _lines,
    "#/$defs/isoDate": lambda v: v is None or _matches(v, _ISO_DATE),
    "#/$defs/sha256": lambda v: _matches(v, _SHA256),
}


def _fast_check(prop: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """A plain-Python check equivalent to the field's schema, None when its shape is not one
    the fast path knows."""
    core = core_schema()["properties"]
    if set(prop) == {"$ref"}:
        return _BY_REF.get(str(prop["$ref"]))
    if prop == core["texts"]:
        return _texts
    if prop == core["files"]:
        return _files
    if set(prop) == {"enum"} and all(isinstance(v, str) for v in prop["enum"]):
        allowed = frozenset(prop["enum"])
        return lambda v: type(v) is str and v in allowed
    if prop == {"type": "object", "additionalProperties": {"type": "string"}}:
        return _string_map
    if "pattern" in prop and set(prop) <= {"type", "pattern", "maxLength"}:
        pattern = re.compile(str(prop["pattern"]))
        most = int(prop.get("maxLength", 0)) or None
        kind = prop.get("type")
        if kind == "string":
            return lambda v: _matches(v, pattern) and (most is None or len(v) <= most)
        if kind == ["string", "null"]:
            return lambda v: v is None or (_matches(v, pattern)
                                           and (most is None or len(v) <= most))
    return None


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
