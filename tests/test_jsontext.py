"""harvester.jsontext.dumps writes what json.dumps writes (the record's hash and its JSON line
depend on it), the long strings of a canonical writing reused by the next plain one."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester import jsontext
from harvester.record import content_sha256

LONG = jsontext.LONG
texts = st.text() | st.text(min_size=LONG, max_size=LONG + 50) | st.sampled_from(
    ["", '"', "\\", "\x00\x1f\x7f", "\u2028\u2029", "\ud800", "é" * LONG, "a\nb\tc" * 100])
scalars = st.none() | st.booleans() | st.integers() | texts
values = st.recursive(scalars | st.floats(), lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(texts, inner, max_size=5), max_leaves=30)


@pytest.fixture(autouse=True)
def reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    """As `harvester extract` runs it (a harvest leaves the hash to json's C encoder)."""
    monkeypatch.setattr(jsontext, "REUSE", True)


def test_without_reuse_the_hash_is_json_dumps_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsontext, "REUSE", False)
    value = {"b": ["x" * (LONG + 3), {"z": None, "a": 1}], "a": "é\n"}
    assert jsontext.dumps(value, canonical=True) == json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert jsontext.dumps(value) == json.dumps(value, ensure_ascii=False)


def both(value: object) -> None:
    assert jsontext.dumps(value, canonical=True) == json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert jsontext.dumps(value) == json.dumps(value, ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(values)
def test_same_text_as_json_dumps(value):
    both(value)


def test_types_json_writes_its_own_way():
    class Text(str):
        pass

    class Mapping(dict):
        pass

    for value in ({"a": 1.5}, {"n": float("nan")}, [Text("x" * LONG)], Mapping(b=1, a=2),
                  {1: "int key"}, {"t": (1, 2)}, {"b": True, "a": [None, False, 0, -7]}, 10**30):
        both(value)


def test_a_cycle_is_refused_as_json_refuses_it():
    cycle: list[object] = []
    cycle.append(cycle)
    for canonical in (True, False):
        try:
            jsontext.dumps(cycle, canonical=canonical)
        except ValueError as exc:
            assert "Circular reference" in str(exc)
        else:
            raise AssertionError("a cycle was written")


def test_a_record_line_after_its_hash_reuses_the_escaped_texts_and_stays_exact():
    text = "Привет \"мир\"\n" * 2000
    record = {"site": "wilson", "record_id": "1", "texts": [{"kind": "original", "language": None,
                                                              "text": text}], "summary": text}
    digest = content_sha256(record)
    assert jsontext.dumps(record) == json.dumps(record, ensure_ascii=False)
    # another record's hash drops the first one's strings; an equal string that is another
    # object is escaped again, not taken for the kept one
    content_sha256({"site": "wilson", "record_id": "2", "texts": []})
    copy = json.loads(json.dumps(record))
    assert jsontext.dumps(copy) == json.dumps(record, ensure_ascii=False)
    assert content_sha256(copy) == digest
