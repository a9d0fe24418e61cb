from __future__ import annotations

import gzip

import pytest

from harvester import cleaners as c


def test_normalize_space_collapses_every_kind_of_blank():
    assert c.normalize_space("  a\u00a0\u00a0b \t\n c\u200b\u2003d\x00 ") == "a b c d"
    assert c.normalize_space(None) == ""


def test_normalize_text_keeps_lines_and_drops_empty_ones():
    assert c.normalize_text(" one  two \r\n\n\u00a0\n three\u2028four ") == "one two\nthree\nfour"
    assert c.normalize_lines("") == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("July 1, 1950", "1950-07-01"),
        ("Jul. 1, 1950", "1950-07-01"),
        ("Sept. 9, 1961", "1961-09-09"),
        ("1 July 1950", "1950-07-01"),
        ("July  1 1950", "1950-07-01"),
        ("1950-07-01", "1950-07-01"),
        ("April 1955", "1955-04"),
        ("Apr. 1955", "1955-04"),
        ("1955-04", "1955-04"),
        ("1950", "1950"),
        ("February 29, 1956", "1956-02-29"),
        ("February 30, 1950", None),
        ("February 29, 1950", None),
        ("1950-13-01", None),
        ("Smarch 1, 1950", None),
        ("sometime in the 1950s", None),
        ("", None),
        (None, None),
        ("1" * 5000, None),
    ],
)
def test_parse_date(text, iso):
    assert c.parse_date(text) == iso


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2011-11-15", "2011-11-15"), (" 2011-11-15T10:20:00Z ", "2011-11-15"),
     ("November 15, 2011", "2011-11-15"), ("2011-02-30", None), ("soon", None), (None, None)],
)
def test_parse_iso_date(text, iso):
    assert c.parse_iso_date(text) == iso


def test_absolute_url():
    base = "https://digitalarchive.wilsoncenter.org/document/x"
    assert c.absolute_url(base, " /document/1/download ") == (
        "https://digitalarchive.wilsoncenter.org/document/1/download"
    )
    assert c.absolute_url(base, "?page=2") == "https://digitalarchive.wilsoncenter.org/document/x?page=2"
    assert c.absolute_url(base, "javascript:alert(1)") is None
    assert c.absolute_url(base, "mailto:a@b.c") is None
    assert c.absolute_url(base, "") is None
    assert c.strip_fragment("https://a/b#c") == "https://a/b"


def test_cfemail_round_trip_and_garbage():
    hex_string = c.encode_cfemail("HAPP@wilsoncenter.org", 0x5A)
    assert hex_string.startswith("5a")
    assert c.decode_cfemail(hex_string) == "HAPP@wilsoncenter.org"
    assert c.decode_cfemail("zz") is None
    assert c.decode_cfemail("5a") is None
    assert c.decode_cfemail(None) is None


CYRILLIC = "<p>Совершенно секретно. Шифротелеграмма послу в Пхеньяне.</p>"


@pytest.mark.parametrize(
    ("body", "declared", "expected"),
    [
        (b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", None, "<p>café</p>"),
        ("<p>café</p>".encode("utf-16"), None, "<p>café</p>"),
        ("<p>café</p>".encode(), None, "<p>café</p>"),
        ("<p>café</p>".encode("latin-1"), "iso-8859-1", "<p>café</p>"),
        ("<p>café</p>".encode(), "iso-8859-1", "<p>café</p>"),  # mislabelled UTF-8
        (CYRILLIC.encode("cp1251"), "windows-1251", CYRILLIC),
        (b"<p>a\x00b</p>", None, "<p>ab</p>"),
        (b"<p>ok \xff\xfe bad</p>", "utf-8", "<p>ok \ufffd\ufffd bad</p>"),
        (b"<p>x</p>", "no-such-charset", "<p>x</p>"),
    ],
)
def test_decode_body(body, declared, expected):
    assert c.decode_body(body, declared) == expected


def test_decode_body_reads_meta_charset():
    body = ('<meta charset="windows-1251">' + CYRILLIC).encode("cp1251")
    assert CYRILLIC in c.decode_body(body)
    body = ('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">' + CYRILLIC)
    assert CYRILLIC in c.decode_body(body.encode("koi8-r"))


def test_decode_body_detects_undeclared_windows_1251_among_ascii_markup():
    body = ("<html><head><title>x</title></head><body>" + "<div class='a'></div>" * 300
            + CYRILLIC + "</body></html>").encode("cp1251")
    assert CYRILLIC in c.decode_body(body)


def test_decode_body_never_raises_on_binary():
    assert isinstance(c.decode_body(gzip.compress(b"hello" * 100)), str)


def test_month_names_are_calendars_in_the_c_locale():
    import calendar

    from harvester import cleaners

    assert list(cleaners.MONTH_NAMES) == list(calendar.month_name)[1:]
    assert [n[:3] for n in cleaners.MONTH_NAMES] == list(calendar.month_abbr)[1:]
    assert cleaners.parse_date("Sept 3, 1950") == "1950-09-03"
    assert cleaners.parse_date("3 Feb. 1951") == "1951-02-03"
