"""dc:date to the record's `date` (harvester/sites/oai/mapping.py normalise_date): at the
text's precision, the date inside a catalogue's qualifier of an approximate or inferred
date, nothing for what names no year (date_text keeps the text as it came)."""

from __future__ import annotations

import pytest

from harvester.sites.oai.mapping import normalise_date


@pytest.mark.parametrize("text, expected", [
    ("1950-07-01", "1950-07-01"), ("July 1, 1950", "1950-07-01"), ("1955-04", "1955-04"),
    ("2001-02-03T04:05:06Z", "2001-02-03"), ("1950-05-03 12:00:00", "1950-05-03"),
    ("1908-1910", "1908"), ("1945/1946", "1945"), ("1908?", "1908"),
    # approximate or inferred, as catalogues write them
    ("ca. 1908", "1908"), ("ca 1908", "1908"), ("c. 1908", "1908"), ("c.1908", "1908"),
    ("c1908", "1908"), ("circa 1908", "1908"), ("Circa 1908-1910", "1908"),
    ("[1908]", "1908"), ("[1908?]", "1908"), ("[ca. 1920]", "1920"),
    ("approximately 1930", "1930"), ("about 1930-05", "1930-05"),
    # no year to give
    ("1950s", None), ("20th century", None), ("n.d.", None), ("s.d.", None),
    ("[between 1900 and 1910]", None), ("cat 1908", None), ("", None), (None, None),
])
def test_dc_dates(text: str | None, expected: str | None) -> None:
    assert normalise_date(text) == expected
