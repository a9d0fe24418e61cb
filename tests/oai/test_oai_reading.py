"""What the source reads off one response, and where its cursors go, without a crawl."""

from __future__ import annotations

import pytest

from harvester.exceptions import ExtractionError
from harvester.sites.oai import OaiSource
from harvester.sites.oai.response import clean, read
from harvester.source import WalkStart

ENVELOPE = ('<?xml version="1.0" encoding="{enc}"?><OAI-PMH xmlns="http://www.openarchives.org/'
            'OAI/2.0/"><responseDate>2024-03-01T12:00:00Z</responseDate><request verb="ListRecords">'
            'http://r.test/oai</request><ListRecords>{records}{token}</ListRecords></OAI-PMH>')
RECORD = ('<record><header><identifier>oai:r.test:{n}</identifier><datestamp>{stamp}</datestamp>'
          '</header><metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
          ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
          '</oai_dc:dc></metadata></record>')
SOURCE = OaiSource(name="r", endpoint="http://r.test/oai")


def page(*titles: str, token: str = "", enc: str = "UTF-8") -> str:
    records = "".join(RECORD.format(n=i, stamp=f"2024-03-01T12:00:0{i}Z", title=t)
                      for i, t in enumerate(titles))
    tok = f"<resumptionToken>{token}</resumptionToken>" if token else ""
    return ENVELOPE.format(enc=enc, records=records, token=tok)


def test_forbidden_characters_go_and_allowed_ones_stay() -> None:
    text, removed = clean("a\x00b\x1fc&#1;d&#x0B;e&#xD800;f&#9;g&#x10000;h&#xFFFE;i\ue000")
    assert text == "abcdef&#9;g&#x10000;hi\ue000" and removed == 6


def test_one_broken_record_is_a_problem_and_the_rest_is_read() -> None:
    body = page("One", "Two <b>broken", "Three", token="t1").encode()
    response = read(body)
    assert [r.identifier for r in response.records] == ["oai:r.test:0", "oai:r.test:2"]
    [(identifier, reason, raw)] = response.problems
    assert identifier == "oai:r.test:1" and "broken" in raw.decode() and reason
    assert response.token == "t1" and not response.truncated


def test_a_truncated_response_yields_nothing_to_store() -> None:
    body = page("One", "Two", token="t1").encode()
    response = read(body[: len(body) - 40])
    assert response.truncated and response.records == []
    assert SOURCE.parse_listing(body[:-40], "http://r.test/oai?verb=ListRecords").skip


PREFIXED = ('<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" '
            'href="oai2.xsl"?>\n<!-- generated -->\n<!DOCTYPE OAI-PMH>\n<oai:OAI-PMH '
            'xmlns:oai="http://www.openarchives.org/OAI/2.0/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><oai:responseDate>'
            '2024-03-01T12:00:00Z</oai:responseDate><oai:ListRecords><oai:record><oai:header>'
            '<oai:identifier>oai:r.test:1</oai:identifier></oai:header></oai:record>'
            '<oai:resumptionToken>t1</oai:resumptionToken></oai:ListRecords></oai:OAI-PMH>')


@pytest.mark.parametrize("whole", [page("One", "Two", token="t1"), PREFIXED],
                         ids=["default-namespace", "prefixed-with-prolog"])
def test_a_response_cut_anywhere_is_truncated_not_refused(whole: str) -> None:
    body = whole.encode()
    for n in range(len(body)):  # the declaration, the prolog, the root's start tag, after
        response = read(body[:n])
        assert response.truncated and response.records == [], n
        assert SOURCE.parse_listing(body[:n], "http://r.test/oai?verb=ListRecords").skip, n
    assert read(body).token == "t1"


@pytest.mark.parametrize("body", [b"<html><body>Error</body></html>", b"<!DOCTYPE html><html>",
                                  b"Service Unavailable", b"<?xml version='1.0'?><error>x</error>",
                                  b'{"error": "busy"}', b"<oai:rec"])
def test_what_is_no_oai_pmh_response_cut_or_not_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="not an OAI-PMH response"):
        read(body)


def test_latin1_bytes_declared_utf8_and_cp1252_declared_nothing() -> None:
    assert read(page("Zürich").encode("latin-1")).records[0].metadata is not None
    step = SOURCE.parse_listing(page("Zürich").encode("latin-1"),
                                "http://r.test/oai?verb=ListRecords&metadataPrefix=oai_dc")
    assert step.records[0]["title"] == "Zürich"


def test_incremental_starts_one_granule_back_without_identify() -> None:
    cursor = SOURCE.start(WalkStart("incremental", None, {
        "response_date": "2024-03-01T12:00:00Z", "granularity": "seconds"}))
    assert cursor["verb"] == "ListRecords" and cursor["from"] == "2024-03-01T11:59:59Z"
    assert cursor["until"] is None
    day = SOURCE.start(WalkStart("incremental", None, {
        "response_date": "2024-03-01T12:00:00Z", "granularity": "day"}))
    assert day["from"] == "2024-03-01"
    assert SOURCE.start(WalkStart("backfill")) == {"verb": "Identify"}


def test_windows_cover_the_span_at_the_granularity_and_end_open() -> None:
    source = OaiSource(name="r", endpoint="http://r.test/oai", windows=4)
    identify = source.parse_listing(
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-09T00:00:00Z'
        b'</responseDate><request verb="Identify">x</request><Identify><earliestDatestamp>'
        b'2024-01-01</earliestDatestamp><granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>',
        "http://r.test/oai?verb=Identify")
    cursor = source.next_cursor({"verb": "Identify"}, identify)
    windows = []
    while cursor is not None:
        windows.append((cursor["from"], cursor["until"]))
        empty = source.parse_listing(
            b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-09'
            b'T00:00:00Z</responseDate><error code="noRecordsMatch"/></OAI-PMH>',
            "http://r.test/oai?verb=ListRecords")
        cursor = source.next_cursor(cursor, empty)
    # 8 days in 4 windows of 2 days; empty windows double the next one; the first is asked
    # for without `from` (a record older than earliestDatestamp still comes); each window
    # shares its first day with the one before (an `until` a server reads as exclusive, or
    # as the day's midnight, loses no record)
    assert windows == [(None, "2024-01-02"), ("2024-01-02", "2024-01-05"),
                       ("2024-01-05", None)]


def test_a_repeated_token_and_a_repeated_page_stop_the_walk() -> None:
    cursor = {"verb": "ListRecords", "token": "t1", "recent": [], "digest": ""}
    step = SOURCE.parse_listing(page("One", token="t1").encode(), "http://r.test/oai")
    with pytest.raises(ExtractionError, match="repeated the resumption token"):
        SOURCE.next_cursor(cursor, step)
    again = SOURCE.parse_listing(page("One", token="t2").encode(), "http://r.test/oai")
    with pytest.raises(ExtractionError, match="same records"):
        SOURCE.next_cursor(dict(cursor, digest=again.digest), again)


def test_other_oai_errors_are_unreadable_listings() -> None:
    body = (b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>x</responseDate>'
            b'<error code="cannotDisseminateFormat">no marc</error></OAI-PMH>')
    with pytest.raises(ExtractionError, match="cannotDisseminateFormat: no marc"):
        SOURCE.parse_listing(body, "http://r.test/oai?verb=ListRecords")
    with pytest.raises(ExtractionError, match="not an OAI-PMH response"):
        SOURCE.parse_listing(b"<html><body>Service down</body></html>", "http://r.test/oai")
