"""The record validator's fast path (harvester.record._surely_valid) never accepts what the
schema refuses, and accepts the records the harvester really produces."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester.record import finalize, record_schema
from harvester.sample import SampleArchive

SCHEMA = record_schema("wilson")  # the core schema with the Wilson source's own fields
FIELDS = SCHEMA.fields
_surely_valid = SCHEMA.surely_valid


def _validator():  # type: ignore[no-untyped-def]
    return SCHEMA.validator


def _fast_path_applies() -> bool:
    return SCHEMA.fast

FIXTURE = Path(__file__).parent / "fixtures" / "wilson" / "full-all-fields" / "output.json"
NOW = "2025-06-01T12:00:00Z"


def base_record() -> dict[str, Any]:
    record = json.loads(FIXTURE.read_text("utf-8"))
    for name in ("site", "content_sha256", "harvested_at"):
        record.pop(name, None)
    return finalize(record, site="wilson", harvested_at=NOW)


def schema_accepts(record: Any) -> bool:
    return not any(True for _ in _validator().iter_errors(record))


def test_fast_path_is_on_for_this_schema():
    assert _fast_path_applies()


def test_real_records_take_the_fast_path():
    archive = SampleArchive(60, 0)
    for i in range(archive.size):
        fields = dict(archive.expected_record(i))
        for name in ("site", "content_sha256", "harvested_at"):
            fields.pop(name, None)
        fields["files"] = [{"url": f["url"], "key": None, "sha256": None, "size": None,
                            "content_type": None} for f in fields.get("files", [])]
        record = finalize(fields, site="wilson", harvested_at=NOW)
        assert _surely_valid(record), record["record_id"]
    assert _surely_valid(base_record())


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2**40), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["", "0" * 64, "a" * 64, "1950-07-01", "1950",
                                           "https://x.org/a", "file:///a", "translation",
                                           "original", "wilson", "117029", "x\n", "a..b",
                                           "2025-06-01T12:00:00Z", "http:// x", "active",
                                           "withdrawn", "Active"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["kind", "language", "text", "url",
                                                             "key", "sha256", "size",
                                                             "content_type", "x"]),
                                            inner, max_size=6)),
    max_leaves=8,
)
_paths = st.sampled_from(
    [(name,) for name in FIELDS]
    + [("texts", 0, k) for k in ("kind", "language", "text")]
    + [("files", 0, k) for k in ("url", "key", "sha256", "size", "content_type")]
    + [("authors", 0), ("texts", 0), ("files", 0), ("extra",)]
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_paths, _values, st.booleans()), min_size=1, max_size=3))
def test_fast_path_never_accepts_what_the_schema_refuses(changes):
    record: Any = copy.deepcopy(base_record())
    for path, value, delete in changes:
        target = record
        try:
            for step in path[:-1]:
                target = target[step]
            if delete and isinstance(target, dict):
                target.pop(path[-1], None)
            else:
                target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    if _surely_valid(record):
        assert schema_accepts(record), record
