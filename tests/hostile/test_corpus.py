"""Hostile pages (issue 4): each gives a valid record or NotADocument/InvalidRecord, in bounded work."""

from __future__ import annotations

import pytest
from hostile_pages import CORPUS, URL, valid_page
from work_count import python_lines

from harvester.exceptions import ChallengePage, InvalidRecord, NotADocument
from harvester.keys import record_key
from harvester.record import finalize
from harvester.sites.wilson import parse_document

# Cases whose outcome is known; the rest must just be one of the allowed outcomes.
MUST_FAIL = {
    "empty",
    "whitespace",
    "single-nul",
    "nuls",
    "random-bytes-small",
    "random-bytes-large",
    "gzip-page",
    "pdf",
    "png",
    "no-title",
    "empty-title",
    "no-record-id",
    "empty-record-id",
    "two-record-ids",
    "record-id-traversal",
    "record-id-slash",
    "record-id-control-chars",
    "record-id-newline-entity",
    "record-id-dotdot",
    "record-id-unicode",
    "record-id-huge",
    "title-100000-chars",
    "challenge",
    "listing",
    "error-page",
    "plain-text",
    "only-doctype",
}
MUST_SUCCEED = {
    "utf16-with-bom",
    "invalid-utf8",
    "latin1-declared-utf8-body",
    "unknown-charset",
    "cp1251-declared",
    "cp1251-undeclared",
    "nul-sprinkled",
    "truncated-90",
    "no-closing-tags",
    "five-megabytes",
    "deep-nesting-before-main",
    "deep-nesting-in-body",
    "script-in-title",
    "script-in-pills",
    "script-in-body",
    "escaped-markup-in-title",
    "comment-and-cdata",
    "impossible-date",
    "garbage-date",
    "title-20000-chars",
    "broken-drupal-json",
    "bad-cfemail",
    "challenge-in-document-text",
    "xml-declaration",
    "many-tabs-no-panes",
}


def outcome(body: bytes) -> dict | Exception:
    try:
        return finalize(
            parse_document(body, URL), site="wilson", harvested_at="2025-01-01T00:00:00Z"
        )
    except (NotADocument, InvalidRecord) as exc:
        return exc


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 40
    assert set(CORPUS) >= MUST_FAIL | MUST_SUCCEED


@pytest.fixture(scope="module")
def valid_page_lines() -> int:
    body = valid_page()
    outcome(body)  # first-call imports and caches are no page's work
    return python_lines(lambda: outcome(body))


@pytest.mark.timeout(60)  # only against a page that hangs the extractor
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_page(name, valid_page_lines):
    body = CORPUS[name]()
    results: list[dict | Exception] = []
    lines = python_lines(lambda: results.append(outcome(body)))
    # no page costs more than a thousand ordinary pages' work (the most, undeclared cp1251
    # text, ~270 when written: its charset is detected)
    assert lines <= 1000 * valid_page_lines, (lines, valid_page_lines)
    result = results[0]
    if isinstance(result, Exception):
        assert name not in MUST_SUCCEED, result
        assert str(result)
        return
    assert name not in MUST_FAIL, result
    if name == "escaped-markup-in-title":  # escaped text is the page's literal text
        return
    assert record_key("wilson", result["record_id"]) == f"records/wilson/{result['record_id']}.json"
    for value in (
        result["title"],
        *result["authors"],
        *result["places"],
        *(t["text"] for t in result["texts"]),
    ):
        assert "<script" not in value and "alert(" not in value and "<img" not in value


def test_challenge_is_a_challenge_and_quoting_it_is_not():
    assert isinstance(outcome(CORPUS["challenge"]()), ChallengePage)
    assert isinstance(outcome(CORPUS["challenge-in-document-text"]()), dict)


def test_specific_outcomes():
    assert "different Record IDs" in str(outcome(CORPUS["two-record-ids"]()))
    assert str(outcome(CORPUS["record-id-traversal"]())).startswith("record_id:")
    impossible = outcome(CORPUS["impossible-date"]())
    assert isinstance(impossible, dict)
    assert impossible["date"] is None and impossible["date_text"] == "February 30, 1950"
    long_title = outcome(CORPUS["title-20000-chars"]())
    assert (
        isinstance(long_title, dict)
        and len(long_title["title"])
        == 5 * 4000
        - 1
        + len("Record of Conversation between Mao Zedong and Soviet Ambassador Pavel Yudin")
        + 1
    )
    escaped = outcome(CORPUS["escaped-markup-in-title"]())
    assert isinstance(escaped, dict) and escaped["title"].startswith("<script>alert(1)</script>")


@pytest.mark.parametrize(
    "name",
    [
        "cp1251-declared",
        "cp1251-undeclared",
        "utf16-with-bom",
        "deep-nesting-in-body",
        "five-megabytes",
    ],
)
def test_readable_variants_keep_the_text(name):
    result = outcome(CORPUS[name]())
    assert isinstance(result, dict)
    assert result["record_id"] == "117029"
    assert "Mao Zedong said" in result["texts"][0]["text"]
    if name.startswith(("cp1251", "utf16")):
        assert result["texts"][1]["text"].startswith("Из дневника П.Ф. Юдина")
