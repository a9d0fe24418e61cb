"""Fixture-driven tests of the document page: each case's output.json, field by field."""

from __future__ import annotations

from collections import Counter

import lxml.etree as etree
import pytest
from wilson_fixtures import case_names, load_case
from work_count import python_lines

from harvester import exceptions
from harvester.record import finalize, record_schema
from harvester.sites.wilson import page as page_module
from harvester.sites.wilson import parse_document

FIELDS = record_schema("wilson").fields

RECORD_CASES = case_names("record")
COMPARED = [f for f in FIELDS if f != "harvested_at"]


def extract(name: str) -> tuple[dict, dict]:
    body, url, expected = load_case(name)
    fields = parse_document(body, url)
    record = finalize(fields, site="wilson", harvested_at="2025-01-01T00:00:00Z")
    return record, expected


def test_there_are_enough_fixture_cases():
    assert len(RECORD_CASES) >= 8


@pytest.mark.parametrize("name", RECORD_CASES)
@pytest.mark.parametrize("field", COMPARED)
def test_field_matches_fixture(name, field):
    record, expected = extract(name)
    assert record[field] == expected[field]


@pytest.mark.parametrize("name", RECORD_CASES)
def test_record_has_exactly_the_contract_fields_in_order(name):
    record, _ = extract(name)
    assert list(record) == list(FIELDS)


@pytest.mark.parametrize("name", RECORD_CASES)
def test_no_chrome_in_any_text_field(name):
    record, _ = extract(name)
    chrome = ["Skip to content", "Main navigation", "cookies", "Subscribe", "newsletter",
              "Terms of Use", "Twitter", "Download PDF", "Document Information", "Author(s)",
              "welcomes reuse", "rights status", "INJECTED", "alert(", "<", "Toggle submenu",
              "Featured:", "Explore", "Breadcrumb", "email protected"]
    values = [record["title"], record["summary"] or "", *[t["text"] for t in record["texts"]]]
    for value in values:
        for phrase in chrome:
            assert phrase not in value, (phrase, value[:200])


@pytest.mark.parametrize("name", case_names("error"))
def test_not_a_document_cases_raise_the_expected_error(name):
    body, url, expected = load_case(name)
    error = getattr(exceptions, expected["error"])
    with pytest.raises(error) as info:
        parse_document(body, url)
    assert str(info.value)


def test_given_url_is_used_when_canonical_is_not_preferred():
    body, _, _ = load_case("full-all-fields")
    fields = parse_document(body, "http://127.0.0.1:8000/node/88123", prefer_canonical=False)
    assert fields["url"] == "http://127.0.0.1:8000/node/88123"
    assert [f["url"] for f in fields["files"]][0] == "http://127.0.0.1:8000/document/88123/download"


def test_declared_encoding_overrides_nothing_when_body_is_utf8():
    body, url, expected = load_case("chinese-month-date")
    fields = parse_document(body, url, encoding="iso-8859-1")
    assert fields["texts"] == expected["texts"]


def test_windows_1251_page_without_any_declaration_is_detected():
    body, url, expected = load_case("cyrillic-windows-1251")
    body = body.replace(b'<meta charset="windows-1251">', b"")
    assert b"charset" not in body
    fields = parse_document(body, url)
    assert fields["title"] == expected["title"]
    assert fields["texts"] == expected["texts"]


def test_page_without_tab_container_gives_one_text_entry():
    body, url, _ = load_case("seed-feng-xi-telegram")
    body = body.replace(b'id="documentTabs" class="document-tabs"', b'class="document"')
    body = body.replace(b'<ul class="nav nav-tabs" role="tablist">', b'<ul class="x">')
    fields = parse_document(body, url)
    assert len(fields["texts"]) == 1
    assert fields["texts"][0]["kind"] == "translation"
    assert fields["texts"][0]["text"].startswith("8th Department")


def test_node_id_falls_back_to_the_download_link():
    body, url, _ = load_case("scan-only-year-date")
    body = body.replace(b"currentPath", b"otherPath").replace(b'rel="shortlink"', b'rel="x"')
    assert parse_document(body, url)["node_id"] == "5521"


def test_title_in_the_content_block_wins_over_an_h1_in_the_site_header():
    body, url, expected = load_case("authors-plain-links")  # its title: an h1 without class
    site_name = b'<h1 class="site-name">Wilson Center Digital Archive</h1>'
    body = body.replace(b'<div class="site-branding">', b'<div class="site-branding">' + site_name)
    assert parse_document(body, url)["title"] == expected["title"]


def test_page_without_content_block_takes_its_h1_title_not_the_site_header_one():
    body, url, expected = load_case("empty-first-title-nehru")
    site_name = b'<h1 class="title site-name">Wilson Center Digital Archive</h1>'
    body = body.replace(b'<div class="site-branding">', b'<div class="site-branding">' + site_name)
    body = body.replace(b'class="content-block"', b'class="document-heading"')
    assert parse_document(body, url)["title"] == expected["title"]


def test_a_menu_teaser_drawn_like_the_content_block_is_chrome():
    body, url, expected = load_case("kohl-contributors-no-author")  # no credits, no class.
    teaser = (b'<div class="featured-document content-block"><h1 class="title">Featured</h1>'
              b'<div class="donated">This document was made possible with support from X</div>'
              b'<div class="classification">Top Secret</div>')
    body = body.replace(b'<div class="featured-document">', teaser, 1)
    fields = parse_document(body, url)
    for name in ("title", "date", "date_text", "credits", "classification", "summary"):
        assert fields[name] == expected[name], name


def test_node_id_is_read_from_settings_that_are_not_valid_json():
    body, url, _ = load_case("escaped-node-path-99018")  # no shortlink, no download link
    body = body.replace(b'"currentLanguage":"en"},', b'"currentLanguage":"en"},,', 1)
    assert parse_document(body, url)["node_id"] == "99018"


def test_author_heading_inside_a_pill_block_is_read_once():
    body, url, expected = load_case("full-all-fields")
    body = body.replace(b'<h2 class="title">Author(s):</h2>',
                        b'<div class="pill-block"><h2 class="title">Author(s):</h2>', 1)
    body = body.replace(b'<div class="pill-block">\n      <h3 class="title">Associated Places',
                        b'</div><div class="pill-block">\n      <h3 class="title">Associated Places', 1)
    assert parse_document(body, url)["authors"] == expected["authors"]


def test_wrapper_carrying_the_information_block_class_is_not_a_block():
    body, url, expected = load_case("full-all-fields")
    first = b'<div class="information-block"><div class="sub-title">Source</div>'
    body = body.replace(first, b'<div class="information-block information-blocks">' + first, 1)
    body = body.replace(b"  </main>", b"  </div></main>", 1)
    fields = parse_document(body, url)
    for name in ("source", "original_archive", "rights", "languages", "donors", "record_id"):
        assert fields[name] == expected[name], name


def test_contributors_with_no_author_reach_neither_authors_nor_people():
    body, url, _ = load_case("kohl-contributors-no-author")
    assert b"Document Contributor" in body
    fields = parse_document(body, url)
    names = fields["authors"] + fields["people"]
    assert fields["authors"] == []
    assert "Bundeskanzleramt" not in names and not any("Küsters" in n for n in names)


def test_listing_page_is_not_a_document():
    body, url, _ = load_case("listing-page")
    with pytest.raises(exceptions.NotADocument, match="listing"):
        parse_document(body, url)


def test_extraction_of_a_40kb_page_parses_it_once_and_its_work_grows_linearly(monkeypatch):
    body, url, _ = load_case("full-all-fields")
    script = b"<script>" + b"var settings = {a: 1, b: [2, 3]};\n" * 400 + b"</script></head>"
    paragraph = b"<p>The delegation discussed the <em>question</em> of supplies [...] (p. 2).</p>\n"

    def page(paragraphs: int) -> bytes:
        return body.replace(b"</head>", script, 1).replace(
            b"<p>[1] A", paragraph * paragraphs + b"<p>[1] A")

    pages = [page(0), page(200), page(400)]
    assert 35_000 < len(pages[1]) < 60_000
    parse_document(pages[1], url)  # first-call imports and caches are not the page's work
    passes = Counter()
    fromstring, class_index = etree.fromstring, page_module.class_index
    monkeypatch.setattr(etree, "fromstring",
                        lambda *a, **kw: passes.update(["parse"]) or fromstring(*a, **kw))
    monkeypatch.setattr(page_module, "class_index",
                        lambda root: passes.update(["index"]) or class_index(root))
    fields = parse_document(pages[1], url)
    assert fields["texts"] and fields["record_id"]
    assert passes == {"parse": 1, "index": 1}  # one parse of the bytes, one pass to index it
    lines = [python_lines(lambda p=p: parse_document(p, url)) for p in pages]
    first, second = lines[1] - lines[0], lines[2] - lines[1]
    assert second <= 1.1 * first, lines  # the next 200 paragraphs cost what the first did
    assert first / 200 <= 150, lines  # lines of Python a paragraph costs (76 when written)
