from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from harvester.exceptions import InvalidRecord
from harvester.record import content_sha256, finalize, record_schema, validate

FIELDS = record_schema("wilson").fields

FIXTURE = Path(__file__).parent / "fixtures" / "wilson" / "full-all-fields" / "output.json"
NOW = "2025-06-01T12:00:00Z"


def fields() -> dict:
    record = json.loads(FIXTURE.read_text("utf-8"))
    for name in ("site", "content_sha256", "harvested_at"):
        record.pop(name, None)
    return record


def test_finalize_adds_site_hash_and_time_in_contract_order():
    record = finalize(fields(), site="wilson", harvested_at=NOW)
    assert list(record) == list(FIELDS)
    assert record["site"] == "wilson" and record["harvested_at"] == NOW
    assert record["content_sha256"] == content_sha256(record)


def test_hash_ignores_harvest_time_and_file_download_details():
    a = finalize(fields(), site="wilson", harvested_at=NOW)
    b = copy.deepcopy(a)
    b["harvested_at"] = "2030-01-01T00:00:00Z"
    b["files"][0].update(key="files/wilson/117029/x.pdf", sha256="0" * 64, size=10,
                         content_type="application/pdf")
    assert content_sha256(a) == content_sha256(b)


def test_hash_changes_with_content_and_is_canonical_json():
    a = finalize(fields(), site="wilson", harvested_at=NOW)
    changed = dict(a, title=a["title"] + "!")
    assert content_sha256(changed) != content_sha256(a)
    reordered = dict(reversed(list(a.items())))
    assert content_sha256(reordered) == content_sha256(a)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"title": ""}, "title: must be a non-empty string"),
        ({"title": None}, "title: must be a string"),
        ({"date": "July 1950"}, "date: has an invalid format"),
        ({"texts": [{"kind": "scan", "language": None, "text": "x"}]}, "texts.0.kind:"),
        ({"texts": [{"kind": "original", "language": None, "text": ""}]}, "texts.0.text:"),
        ({"authors": "Stalin"}, "authors: must be array"),
        ({"record_id": ""}, "record_id:"),
        ({"record_id": " 114921"}, "record_id:"),
        ({"record_id": "114921\n"}, "record_id:"),
        ({"record_id": "1149\x0121"}, "record_id:"),
        ({"record_id": "x" * 4097}, "record_id:"),  # longer ids have keys (hashed parts)
        ({"record_id": "\u00fc" * 2049 + "\ud800"}, "record_id:"),  # no key: not Unicode
        ({"extra": 1}, "record: unknown field extra"),
        ({"title": "x" * 70_000}, "title: is too long"),
    ],
)
def test_validate_names_the_failing_field(change, reason):
    record = finalize(fields(), site="wilson", harvested_at=NOW)
    record.update(change)
    with pytest.raises(InvalidRecord) as info:
        validate(record)
    assert str(info.value).startswith(reason)


@pytest.mark.parametrize("record_id", ["oai:example.org:123/x", "../../etc/passwd", "a b",
                                       "\u00fc", "%", "x" * 200])
def test_any_identifier_with_a_key_is_a_valid_record_id(record_id):
    """Issue 14: any identifier an archive uses (its key is an escaped form of it)."""
    record = finalize(dict(fields(), record_id=record_id), site="wilson", harvested_at=NOW)
    validate(record)
    assert record["record_id"] == record_id


def test_missing_field_is_named():
    record = finalize(fields(), site="wilson", harvested_at=NOW)
    del record["rights"]
    with pytest.raises(InvalidRecord, match="^rights: required field is missing"):
        validate(record)


def test_finalize_rejects_invalid_fields():
    bad = dict(fields(), title="")
    with pytest.raises(InvalidRecord, match="^title"):
        finalize(bad, site="wilson", harvested_at=NOW)


def test_long_title_within_limit_is_valid():
    record = finalize(dict(fields(), title="T" * 20_000), site="wilson", harvested_at=NOW)
    assert len(record["title"]) == 20_000
