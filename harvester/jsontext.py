"""json.dumps of a record, twice over the same long strings for the price of once.

A record is written as JSON twice: canonically for its content hash (sorted keys, no
blanks: harvester.record.content_sha256) and as its JSON line (`harvester extract`). Most of
either is the escaping of a document's long texts (~20,000 characters a page, escaped one
character at a time by json's C encoder). `dumps` gives exactly json.dumps' text (with
ensure_ascii=False, and canonically with sort_keys=True and separators=(",", ":")); a
canonical writing keeps the escaped form of its long strings (until the next canonical one),
so the record's JSON line written after its hash reuses them. A value holding anything but
dicts (of str keys), lists, str, int, bool and None (a float, a subclass of any) is written
by json.dumps itself: the text is the same either way.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # json's own escaping of a str (C when built)
from typing import Any

LONG = 256  # strings at least this long are kept escaped (a page's texts, summary)
# Whether the record's JSON line is written by `dumps` right after its hash (`harvester
# extract`, which turns it on): then the hash keeps its long strings escaped for it.
# A harvest writes a record long after its hash (and with json.dumps), so its hash is
# json's C encoder's: this module's walk cost ~1.6x that on a record of short strings.
REUSE = False
# id(string) -> (the string itself, its escaped form), of the last canonical writing: the
# string is held, so its id cannot be another string's while it is kept
_escaped: dict[int, tuple[str, str]] = {}
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_PLAIN = json.JSONEncoder(ensure_ascii=False)


class _Other(Exception):
    """A value json.dumps writes on its own (see the module docstring)."""


def dumps(value: Any, *, canonical: bool = False) -> str:
    """json.dumps(value, ensure_ascii=False), or with canonical=True json.dumps(value,
    ensure_ascii=False, sort_keys=True, separators=(",", ":")): the same text."""
    if canonical:
        if not REUSE:
            return _CANONICAL.encode(value)
        _escaped.clear()
    try:
        return _value(value, canonical)
    except (_Other, RecursionError):
        return (_CANONICAL if canonical else _PLAIN).encode(value)


def _string(text: str, keep: bool = False) -> str:
    if len(text) < LONG:
        return encode_basestring(text)
    kept = _escaped.get(id(text))
    if kept is not None and kept[0] is text:
        return kept[1]
    escaped = encode_basestring(text)
    if keep:
        _escaped[id(text)] = (text, escaped)
    return escaped


def _value(value: Any, canonical: bool) -> str:
    kind = type(value)
    if kind is str:
        return _string(value, canonical)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is list:
        if not value:
            return "[]"
        escape = encode_basestring
        parts = [escape(v) if type(v) is str and len(v) < LONG else _value(v, canonical)
                 for v in value]  # (short strings escaped here: most items are)
        return "[" + ("," if canonical else ", ").join(parts) + "]"
    if kind is dict:
        if not value:
            return "{}"
        for key in value:
            if type(key) is not str:
                raise _Other
        if canonical:
            return "{" + ",".join([_string(k) + ":" + _value(v, True)
                                   for k, v in sorted(value.items())]) + "}"
        return "{" + ", ".join([_string(k) + ": " + _value(v, False)
                                for k, v in value.items()]) + "}"
    raise _Other
