"""The lookahead's parts alone: the token guessed off a response's last bytes (what the
reader makes of the same bytes decides: a guess is only ever a request asked sooner), and
the bookkeeping of guesses (stand in, wasted, the cap on wasted guesses)."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request

from harvester.lookahead import Lookahead
from harvester.sites.oai.response import peek_token, read

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/'
        'OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate><request>x</request>'
        '<ListRecords><record><header><identifier>a</identifier><datestamp>2024-01-01'
        '</datestamp></header></record>')


def _page(token_xml: str, end: str = "</ListRecords></OAI-PMH>\n") -> bytes:
    return (HEAD + token_xml + end).encode("utf-8")


@pytest.mark.parametrize("token_xml, expected", [
    ('<resumptionToken completeListSize="9" cursor="0">abc|2|10</resumptionToken>', "abc|2|10"),
    ("<resumptionToken>\n  spaced-token \n</resumptionToken>", "spaced-token"),
    ("<resumptionToken>ünïcode</resumptionToken>", "ünïcode"),
])
def test_a_plain_token_is_guessed_as_the_reader_reads_it(token_xml: str, expected: str) -> None:
    body = _page(token_xml)
    assert peek_token(body) == expected == read(body).token


def test_a_prefixed_envelope_is_guessed() -> None:
    body = (b'<?xml version="1.0"?><oai:OAI-PMH xmlns:oai="http://www.openarchives.org/OAI/2.0/">'
            b"<oai:responseDate>2024-01-01T00:00:00Z</oai:responseDate><oai:ListRecords>"
            b"<oai:resumptionToken>p-1</oai:resumptionToken></oai:ListRecords></oai:OAI-PMH>")
    assert peek_token(body) == "p-1" == read(body).token


@pytest.mark.parametrize("body", [
    _page('<resumptionToken completeListSize="9" cursor="9"/>'),  # the list's end
    _page("<resumptionToken></resumptionToken>"),  # the list's end too
    _page(""),  # no token at all
    _page("<resumptionToken>a&amp;b</resumptionToken>"),  # an entity: left to the reader
    _page("<resumptionToken><![CDATA[x]]></resumptionToken>"),
    _page("<resumptionToken>cut</resumptionToken>", end="</ListRec"),  # cut off
    _page("<resumptionToken>caf\xe9</resumptionToken>").replace("é".encode(), b"\xe9"),
], ids=["self-closed", "empty", "none", "entity", "cdata", "truncated", "not-utf8"])
def test_no_guess_when_it_cannot_be_told_cheaply(body: bytes) -> None:
    assert peek_token(body) is None


def test_a_guess_stands_in_for_the_one_request_its_step_asks_for() -> None:
    async def go() -> None:
        lookahead = Lookahead()
        key = lookahead.guess(Request("http://r.test/oai?verb=ListRecords&resumptionToken=t1"))
        waiting = asyncio.ensure_future(lookahead.wait(key))
        await asyncio.sleep(0)
        assert not waiting.done()  # waits for its step
        real = Request("http://r.test/oai?verb=ListRecords&resumptionToken=t1",
                       meta={"cursor": {"token": "t1", "pages": 3}, "page": 4})
        assert lookahead.settle(key, [real]) == []
        assert await waiting == {"cursor": {"token": "t1", "pages": 3}, "page": 4}
        assert (lookahead.made, lookahead.used, lookahead.wasted) == (1, 1, 0)

    asyncio.run(go())


@pytest.mark.parametrize("requests", [
    [Request("http://r.test/oai?verb=ListRecords&resumptionToken=t2")],  # another URL
    [Request("http://r.test/oai?verb=ListRecords&resumptionToken=t1", method="POST")],
    [Request("http://r.test/oai?verb=ListRecords&resumptionToken=t1"),
     Request("http://r.test/oai?verb=ListRecords&from=2024")],  # branches
    [],  # the walk ends
], ids=["url", "method", "branches", "end"])
def test_a_guess_its_step_does_not_ask_for_is_wasted(requests: list[Request]) -> None:
    async def go() -> None:
        lookahead = Lookahead()
        key = lookahead.guess(Request("http://r.test/oai?verb=ListRecords&resumptionToken=t1"))
        waiting = asyncio.ensure_future(lookahead.wait(key))
        await asyncio.sleep(0)
        assert lookahead.settle(key, requests) == requests  # the step asks for its own
        assert await waiting is None
        assert lookahead.wasted == 1

    asyncio.run(go())


def test_an_abandoned_guess_is_wasted_and_a_settled_one_stays_settled() -> None:
    async def go() -> None:
        lookahead = Lookahead()
        url = "http://r.test/oai?verb=ListRecords&resumptionToken=t1"
        first = lookahead.guess(Request(url))
        lookahead.abandon(first)  # its step stopped the walk
        assert await lookahead.wait(first) is None
        second = lookahead.guess(Request(url))
        assert lookahead.settle(second, [Request(url, meta={"page": 2})]) == []
        lookahead.abandon(second)  # the step's callback ends after it settled: no-op
        assert await lookahead.wait(second) == {"page": 2}
        assert await lookahead.wait(12345) is None  # unknown: nothing to wait for
        assert (lookahead.used, lookahead.wasted) == (1, 1)

    asyncio.run(go())


def test_guessing_stops_after_the_wasted_cap() -> None:
    async def go() -> None:
        lookahead = Lookahead(max_wasted=3)
        for n in range(3):
            assert lookahead.enabled
            key = lookahead.guess(Request(f"http://r.test/?t={n}"))
            lookahead.settle(key, [Request("http://r.test/?t=other")])
        assert not lookahead.enabled

    asyncio.run(go())


@pytest.mark.parametrize("body, expected", [
    (_page(""), ("end", 1)),  # no token: the list's last page
    (_page('<resumptionToken completeListSize="9" cursor="9"/>'), ("end", 1)),
    (_page("<resumptionToken> </resumptionToken>"), ("end", 1)),
    ((b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
      b'<responseDate>2024-01-01T00:00:00Z</responseDate><request>x</request>'
      b'<error code="noRecordsMatch">nothing</error></OAI-PMH>'), ("no_records", 0)),
    ((b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
      b'<responseDate>2024-01-01T00:00:00Z</responseDate><request>x</request>'
      b'<error code="badResumptionToken">gone</error></OAI-PMH>'), None),
    (_page("<resumptionToken>a&amp;b</resumptionToken>"), None),  # a token: not the end
    (_page("<resumptionToken>t1</resumptionToken>"), None),
    (_page("", end="</ListRecords></OAI"), None),  # cut off
], ids=["no-token", "self-closed", "blank", "no-records", "other-error", "entity-token",
        "token", "truncated"])
def test_the_lists_end_is_told_off_the_bytes(body: bytes, expected: object) -> None:
    from harvester.sites.oai.response import peek_list_end

    assert peek_list_end(body) == expected


def _list_body(n: int, token: str = "") -> bytes:
    records = "".join(
        f"<record><header><identifier>oai:r.test:{i}</identifier><datestamp>2024-01-0{i % 9 + 1}"
        "</datestamp></header><metadata><oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/"
        "OAI/2.0/oai_dc/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>T</dc:title>"
        "</oai_dc:dc></metadata></record>" for i in range(n))
    tail = f"<resumptionToken>{token}</resumptionToken>" if token else ""
    return (HEAD.split("<ListRecords>")[0] + f"<ListRecords>{records}{tail}</ListRecords>"
            "</OAI-PMH>").encode()


@pytest.mark.parametrize("count, token, window_records", [
    (10, "t9", 20000), (10, "", 20000), (25, "", 20), (0, "", 20000),
], ids=["token", "window-end", "window-halved", "empty-window"])
def test_the_guess_is_the_request_the_parsed_page_asks_for(count: int, token: str,
                                                           window_records: int) -> None:
    from harvester.sites.oai import dates
    from harvester.sites.oai.source import OaiSource

    source = OaiSource(name="g", endpoint="http://r.test/oai", window_records=window_records)
    cursor = source._window_cursor("2024-01-01T00:00:00Z", dates.SECONDS, None,
                                   "2024-01-10T23:59:59Z", "2024-03-01T00:00:00Z", 864000)
    if count:
        body = _list_body(count, token)
    else:
        body = (HEAD.split("<ListRecords>")[0] + '<error code="noRecordsMatch"/></OAI-PMH>').encode()
    url = "http://r.test/oai?" + "verb=ListRecords&metadataPrefix=oai_dc"
    guess = source.peek_next(cursor, body)
    real = source.next_cursor(cursor, source.parse_listing(body, url))
    assert guess is not None and real is not None
    assert source.listing_request("http://r.test/oai", guess, 0).url == \
        source.listing_request("http://r.test/oai", real, 0).url
