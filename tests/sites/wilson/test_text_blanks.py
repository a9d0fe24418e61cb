"""Body texts keep their words whatever blanks and invisible characters the page uses.

The text walk normalises in C passes over UTF-8 for the usual blanks (space, tab, line
breaks, NBSP) and takes a slower path for the rare ones; every one of them must come out the
same: a run of blanks is one space, a line's ends are stripped, invisible characters vanish.
"""

from __future__ import annotations

import sys

import pytest
from wilson_fixtures import load_case

from harvester.sites.wilson import parse_document

# every character str.split() splits on (the blanks) and every invisible one the walk drops
BLANKS = ["\t", "\n", "\x0b", "\x0c", "\r", "\x85", "\xa0", "\u1680",
          *(chr(c) for c in range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f", "\u205f",
          "\u3000"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\x01",
             "\x08", "\x0e", "\x1c", "\x1f", "\x7f", "\x80", "\x84", "\x86", "\x9f"]
MARKER = b"<p>Secret, Copy No. 3 (p. 1)</p>"


def _texts(paragraphs: str) -> list[str]:
    body, url, _ = load_case("full-all-fields")
    assert MARKER in body
    page = body.replace(MARKER, MARKER + paragraphs.encode("utf-8"), 1)
    texts = parse_document(page, url)["texts"]
    return [line for entry in texts for line in (entry["text"] or "").split("\n")]


@pytest.mark.parametrize("blank", BLANKS, ids=[f"U+{ord(c):04X}" for c in BLANKS])
def test_every_blank_is_one_space_between_words_and_none_at_the_ends(blank):
    lines = _texts(f"<p>{blank}Dear {blank}{blank}comrade<em>s</em>,{blank}greetings{blank}</p>"
                   f"<p>[...] (p.{blank}2)</p>")
    assert "Dear comrades, greetings" in lines
    assert "[...] (p. 2)" in lines


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_invisible_characters_vanish_from_words(char):
    lines = _texts(f"<p>Pyong{char}yang [sic]{char} and  Beijing</p>")
    assert "Pyongyang [sic] and Beijing" in lines


def test_text_with_usual_and_rare_blanks_and_punctuation_keeps_its_characters():
    rare = "\u2003"
    lines = _texts("<p>\u201cMao\u2019s\u00a0reply\u201d \u2014 Zhou:\u3000\u4e2d\u56fd "
                   f"Жуков{rare}и\u200b\u00a0Ким</p>")
    assert "\u201cMao\u2019s reply\u201d \u2014 Zhou: \u4e2d\u56fd Жуков и Ким" in lines
    assert sys.maxunicode > 0xFFFF  # (astral characters below are real code points)
    assert "a \U0001F600 b" in _texts("<p>a \U0001F600\n b</p>")


def test_a_table_keeps_its_rows_text_and_drops_rows_of_empty_cells():
    import re

    from harvester.sites.htmltext import element_lines, parse_html

    root = parse_html("<div><table><tr><td>\u3000</td><td> </td></tr><tr><td>a</td><td>|b</td></tr>"
                      "<tr><td>\u00a0</td><td>c</td></tr><tr><td>|</td><td></td></tr></table></div>")
    assert element_lines(root.find(".//div")) == ["a | |b", "| c"]
    # element_lines keeps a line without its regex when the line's first character is neither
    # "|" nor a blank: the same blanks for re's \s as for str.isspace(), on every code point
    space = re.compile(r"\s")
    assert all((space.match(chr(c)) is not None) == chr(c).isspace() for c in range(sys.maxunicode + 1))
