"""Every variation of docs/wilson-dom.md appears in a 60-document archive, and each rendered
page carries exactly its ground truth (read back with an independent minimal parser)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sample_reference import parse

from harvester.sample import SampleArchive
from harvester.sample.render import document_page

OPTIONAL_SCALARS = ("date", "date_text", "summary", "source", "rights", "uploaded", "type",
                    "classification", "credits")
OPTIONAL_LISTS = ("texts", "authors", "places", "subjects", "people", "original_archive",
                  "languages", "donors", "files")


@pytest.fixture(scope="module")
def pages(archive60: SampleArchive) -> list[str]:
    return [document_page(archive60.document(i)) for i in range(archive60.size)]


@pytest.fixture(scope="module")
def records(archive60: SampleArchive) -> list[dict[str, Any]]:
    return list(archive60.expected_records())


def test_pages_carry_their_ground_truth(pages: list[str], records: list[dict[str, Any]]) -> None:
    for page, expected in zip(pages, records, strict=True):
        got = parse(page.encode())
        # status and withdrawn_at are not on the page: the harvester's
        want = {k: v for k, v in expected.items() if k not in ("date", "status", "withdrawn_at")}
        assert got == want, expected["record_id"]


def test_ground_truth_shape(records: list[dict[str, Any]]) -> None:
    for rec in records:
        assert rec["url"].startswith("https://digitalarchive.wilsoncenter.org/document/")
        for key, value in rec.items():
            if isinstance(value, str):
                assert value == value.strip() and "  " not in value, key
        for text in rec["texts"]:
            assert text["kind"] in ("translation", "transcript", "original")
            assert all(line == " ".join(line.split()) and line for line in text["text"].split("\n"))


def test_every_optional_field_is_present_and_missing_somewhere(
    records: list[dict[str, Any]],
) -> None:
    for key in OPTIONAL_SCALARS:
        assert any(r[key] is None for r in records), f"{key} never missing"
        assert any(r[key] is not None for r in records), f"{key} never present"
    for key in OPTIONAL_LISTS:
        assert any(r[key] == [] for r in records), f"{key} never empty"
        assert any(len(r[key]) >= 2 for r in records), f"{key} never has several items"
    bare = [r for r in records if all(r[k] is None for k in OPTIONAL_SCALARS)
            and all(r[k] == [] for k in OPTIONAL_LISTS if k not in ("texts", "files"))]
    assert bare, "no document with every optional field missing"


def test_date_precisions(records: list[dict[str, Any]]) -> None:
    shapes = {
        (re.sub(r"\d", "9", r["date"]) if r["date"] else None, bool(r["date_text"]))
        for r in records
    }
    assert shapes == {("9999-99-99", True), ("9999-99", True), ("9999", True), (None, False)}
    for r in records:
        if r["date"] and len(r["date"]) == 10:
            day = int(r["date"][8:])
            assert r["date_text"].endswith(f" {day}, {r['date'][:4]}")  # no leading zero


def test_tab_labels_languages_and_scripts(records: list[dict[str, Any]]) -> None:
    labels = {(t["kind"], t["language"]) for r in records for t in r["texts"]}
    assert {("translation", "English"), ("transcript", "Russian"), ("original", "Chinese"),
            ("original", "Korean"), ("transcript", None)} <= labels
    joined = "\n".join(t["text"] for r in records for t in r["texts"])
    assert re.search("[а-яА-Я]", joined) and re.search("[\u4e00-\u9fff]", joined)
    assert re.search("[\uac00-\ud7a3]", joined)
    for mark in ("[sic]", "(p. 1)", "[1]", "[...]"):
        assert mark in joined
    assert re.search(r"^\d+ \| .+ \| [\d,]+$", joined, re.M)  # table rows
    assert "No. | Item | Quantity" in joined


def test_scan_only_documents_and_file_combinations(records: list[dict[str, Any]]) -> None:
    kinds = set()
    for r in records:
        urls = [f["url"] for f in r["files"]]
        kinds.add((any(u.endswith("/download") for u in urls),
                   any("/imported_document_original_file/" in u for u in urls)))
    assert kinds == {(True, False), (False, True), (True, True), (False, False)}
    assert any(r["texts"] == [] and r["files"] for r in records)


def test_markup_variations_present(pages: list[str]) -> None:
    joined = "\n".join(pages)
    assert '<h4 class="title">' in joined and '<h3 class="title">' in joined
    assert re.search(r'<a class="name"[^>]*><span>', joined)
    assert re.search(r'<a class="name"[^>]*>[^<]', joined)
    assert "pill pill-subject" in joined
    assert 'data-toggle="tab"' in joined and "data-bs-target" in joined
    assert 'id="document-pane-1"' in joined  # tab ids not matching pane ids
    assert '<div class="sub-title">Source:</div>' in joined  # label with a colon
    assert '<div class="classification">' in joined
    assert "<p>&nbsp;</p>" in joined and "<ol>" in joined and "<ul>" in joined
    assert "data-cfemail=" in joined and "[email&#160;protected]" in joined
    assert "<strong>" in joined and "<em>" in joined


def test_classification_block_wins_over_line(archive60: SampleArchive) -> None:
    both = [archive60.document(i) for i in range(60)
            if archive60.document(i).classification_line
            and archive60.document(i).info_text("Original Classification")]
    assert both
    differing = [d for d in both
                 if d.classification_line != d.info_text("Original Classification").text]  # type: ignore[union-attr]
    assert differing
    doc = differing[0]
    assert archive60.expected_record(doc.index)["classification"] == (
        doc.info_text("Original Classification").text  # type: ignore[union-attr]
    )


def test_information_block_order_varies(archive60: SampleArchive) -> None:
    orders = {tuple(b.label for b in archive60.document(i).info) for i in range(60)}
    canonical = [o for o in orders if list(o) == sorted(o, key=_canonical_rank)]
    assert canonical and len(canonical) < len(orders)


def _canonical_rank(label: str) -> int:
    from harvester.sample.generate import INFO_ORDER

    return INFO_ORDER.index(label)


def test_page_sizes_like_the_live_site(pages: list[str]) -> None:
    sizes = [len(p.encode()) for p in pages]
    assert min(sizes) >= 30_000 and max(sizes) <= 60_000
    for page in pages:
        assert "Skip to content" in page and "sliding-popup" in page and "newsletter" in page
        assert '"currentPath":"node\\/' in page


def test_rights_address_is_decoded_in_ground_truth(records: list[dict[str, Any]]) -> None:
    rights = {r["rights"] for r in records if r["rights"]}
    assert len(rights) == 1
    (text,) = rights
    p1, p2 = text.split("\n")
    assert p1.startswith("The History and Public Policy Program welcomes reuse")
    assert p2.endswith("at HAPP@wilsoncenter.org.")
