"""The extractor on pages drawn to differ from the sample archive's (bench/unlike_pages.py):
a ~170-link mega-menu whose columns are named like the document's sections, topic chips as
pills and a teaser drawn like the content block; information blocks in four wrappings, in a
shuffled order; Cloudflare-obfuscated e-mails in both markups; long texts with lists,
tables and footnotes; several text tabs, scans and PDFs; many pills. Every field of every
page must be what the page's model says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from bench.unlike_pages import generate  # noqa: E402
from harvester.sites.wilson.page import parse_document  # noqa: E402

PAGES = generate(40, seed=17)


@pytest.mark.parametrize(("record_id", "body", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_every_field_of_a_page_unlike_the_samples(record_id, body, expected):
    got = parse_document(body, f"https://digitalarchive.wilsoncenter.org/document/{record_id}")
    assert {k: got[k] for k in expected} == expected


def test_the_set_has_what_it_claims():
    bodies = [body for _, body, _ in PAGES]
    records = [expected for _, _, expected in PAGES]
    assert all(body.count(b'class="tbm-link level-2"') >= 150 for body in bodies)  # the menu
    assert any(len(r["texts"]) == 3 for r in records)
    assert any(len(r["files"]) >= 3 for r in records)
    assert any(len(r["subjects"]) >= 30 for r in records)
    assert any(len(r["texts"][0]["text"]) > 20_000 for r in records)  # long texts
    assert any(b'information-wrapper' in body for body in bodies)  # a wrapper with the class
    assert all(r["rights"].endswith("HAPP@wilsoncenter.org.") for r in records)  # decoded
    assert generate(5, seed=3) == generate(5, seed=3)  # the same pages every time


def test_a_preview_inside_an_obfuscated_address_is_no_file():
    """An address is decoded by replacing what its element holds: a preview drawn inside it
    is gone from the page, as before the extraction's single walk over links and files."""
    _, body, expected = PAGES[0]
    key_hex = "5a" + "".join(f"{b ^ 0x5A:02x}" for b in b"a@b.org")
    trap = (f'<span class="__cf_email__" data-cfemail="{key_hex}"><object class="pdf-preview" '
            'data="/trap.pdf"></object></span></main>').encode()
    got = parse_document(body.replace(b"</main>", trap, 1),
                         "https://digitalarchive.wilsoncenter.org/document/x")
    assert [f["url"] for f in got["files"]] == [f["url"] for f in expected["files"]]
