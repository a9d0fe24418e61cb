"""The sample archive's OAI-PMH endpoint (/oai) answered to a PyPI client no one on the team
wrote (Sickle, over GET; oaipmh-scythe over POST) and to plain requests: every document once
with the facts its page shows, resumption tokens, selective harvesting, the protocol's
errors, and the switches (changes, day granularity, forbidden characters, 503 with an
HTTP-date Retry-After, expiring tokens) as the protocol shows them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit

import pytest
from conftest import fetch
from lxml import etree
from oaipmh_scythe import HTTPConfig, Scythe
from sickle import Sickle
from sickle.oaiexceptions import (
    BadArgument,
    BadResumptionToken,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoRecordsMatch,
)

from harvester.sample import SampleArchive, SampleServer
from harvester.sample.oai_catalog import ID_PREFIX

NS = {"o": "http://www.openarchives.org/OAI/2.0/"}
SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture
def served() -> Iterator[SampleServer]:
    """40 documents, 7 records a list response (so every list takes several)."""
    with SampleServer(SampleArchive(40), oai={"page_size": 7}) as srv:
        yield srv


def oai_url(server: SampleServer) -> str:
    return server.base_url + "/oai"


def ask(server: SampleServer, **params: str) -> etree._Element:
    reply = fetch(server.base_url, "/oai?" + urlencode(params))
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/xml")
    return etree.fromstring(reply.body)


def error_of(root: etree._Element) -> str | None:
    found = root.find("o:error", NS)
    return None if found is None else found.get("code")


def response_date(server: SampleServer) -> str:
    return str(ask(server, verb="Identify").findtext("o:responseDate", namespaces=NS))


def oai_id(record_id: int | str) -> str:
    return f"{ID_PREFIX}{record_id}"


def test_sickle_lists_every_document_once_with_the_facts_its_page_shows(
        served: SampleServer) -> None:
    archive = served.archive
    base = served.base_url
    records = list(Sickle(oai_url(served)).ListRecords(metadataPrefix="oai_dc"))
    ids = [r.header.identifier for r in records]
    assert sorted(ids) == sorted(oai_id(rid) for rid in archive.record_ids())  # each once
    stamps = [r.header.datestamp for r in records]
    assert all(SECONDS.match(s) for s in stamps) and stamps == sorted(stamps)
    by_id = {r.header.identifier: r for r in records}
    for i in range(archive.size):
        doc = archive.document(i)
        expected = archive.expected_record(i, files_base=base)
        got = by_id[oai_id(doc.record_id)]
        dc = got.metadata
        assert got.header.datestamp[:10] == doc.uploaded  # the upload's day
        assert dc["title"] == [expected["title"]]
        assert dc.get("creator", []) == expected["authors"]
        assert dc.get("subject", []) == expected["subjects"]
        assert dc.get("coverage", []) == expected["places"]
        assert dc.get("description", [None]) == [expected["summary"]]
        assert dc.get("date", [None]) == [expected["date"]]
        assert dc.get("type", [None]) == [expected["type"]]
        assert dc.get("language", []) == expected["languages"]
        assert "\n".join(dc.get("rights", [])) == (expected["rights"] or "")
        links = dc["identifier"]
        assert links[0] == f"{base}{doc.path}"
        pdfs = links[1:]
        assert len(pdfs) == len(expected["files"]) and all(u.endswith(".pdf") for u in pdfs)
        for url in pdfs:  # the files are on this loopback host and download
            reply = fetch(base, urlsplit(url).path)
            assert reply.status == 200 and reply.body.startswith(b"%PDF")
        subjects = {f"subject:{s}" for s in _slugs(expected["subjects"])}
        assert subjects <= set(got.header.setSpecs)


def _slugs(values: list[str]) -> list[str]:
    return [re.sub(r"[^a-z0-9]+", "-", v.lower()).strip("-") for v in values]


def test_lists_are_split_by_tokens_with_size_and_cursor(served: SampleServer) -> None:
    root = ask(served, verb="ListIdentifiers", metadataPrefix="oai_dc")
    seen, cursors = [], []
    while True:
        seen += [h.findtext("o:identifier", namespaces=NS)
                 for h in root.iterfind("o:ListIdentifiers/o:header", NS)]
        token = root.find("o:ListIdentifiers/o:resumptionToken", NS)
        if token is None:
            break
        assert token.get("completeListSize") == "40"
        cursors.append(int(token.get("cursor") or -1))
        if not token.text:
            break
        root = ask(served, verb="ListIdentifiers", resumptionToken=token.text)
    assert len(seen) == len(set(seen)) == 40
    assert cursors == [0, 7, 14, 21, 28, 35]  # 6 pages of 7 (the last one 5)
    # a token of one list is no token of another verb's
    first = ask(served, verb="ListRecords", metadataPrefix="oai_dc")
    token = first.findtext("o:ListRecords/o:resumptionToken", namespaces=NS)
    assert token and error_of(ask(served, verb="ListIdentifiers",
                                  resumptionToken=token)) == "badResumptionToken"


def test_identify_formats_sets_and_get_record(served: SampleServer) -> None:
    sickle = Sickle(oai_url(served))
    identify = sickle.Identify()
    assert identify.baseURL == oai_url(served) and identify.protocolVersion == "2.0"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.deletedRecord == "persistent"
    assert identify.earliestDatestamp == "2011-01-03T00:00:00Z"  # the first upload
    assert [f.metadataPrefix for f in sickle.ListMetadataFormats()] == ["oai_dc"]
    rid = served.archive.record_ids()[3]
    assert [f.metadataPrefix for f in sickle.ListMetadataFormats(identifier=oai_id(rid))] \
        == ["oai_dc"]
    sets = {s.setSpec: s.setName for s in sickle.ListSets()}
    assert sets["subject"] == "Subjects Discussed" and sets["archive"] == "Original Archive"
    assert sets["subject:nuclear-weapons"] == "Nuclear weapons"
    # a set holds exactly the documents of that subject; the top set all its subsets'
    expected = {oai_id(served.archive.meta(i).record_id)
                for i in range(served.archive.size)
                if "Nuclear weapons" in served.archive.expected_record(i)["subjects"]}
    assert expected
    got = {h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc",
                                                        set="subject:nuclear-weapons")}
    assert got == expected
    with_subject = {oai_id(served.archive.meta(i).record_id)
                    for i in range(served.archive.size)
                    if served.archive.expected_record(i)["subjects"]}
    assert {h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc",
                                                         set="subject")} == with_subject
    record = sickle.GetRecord(identifier=oai_id(rid), metadataPrefix="oai_dc")
    assert record.metadata["title"] == [served.archive.expected_for(rid)["title"]]
    with pytest.raises(IdDoesNotExist):
        sickle.GetRecord(identifier=oai_id("999"), metadataPrefix="oai_dc")
    with pytest.raises(CannotDisseminateFormat):
        sickle.GetRecord(identifier=oai_id(rid), metadataPrefix="marc21")


def test_from_and_until_select_by_datestamp(served: SampleServer) -> None:
    sickle = Sickle(oai_url(served))
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc"))
    middle = headers[20].datestamp
    later = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc",
                                                          **{"from": middle})]
    earlier = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc",
                                                            until=middle)]
    assert later == [h.identifier for h in headers[20:]]
    assert earlier == [h.identifier for h in headers[:21]]  # both bounds inclusive
    day = middle[:10]  # a day-granularity argument covers its whole day
    same_day = [h.identifier for h in headers if h.datestamp.startswith(day)]
    got = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc",
                                                        **{"from": day, "until": day})]
    assert got == same_day and len(same_day) >= 3
    with pytest.raises(NoRecordsMatch):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2030-01-01"}))
    with pytest.raises(BadArgument):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2011-01-05"},
                                    until="2011-01-06T00:00:00Z"))  # two granularities


@pytest.mark.parametrize(("params", "code"), [
    ({}, "badVerb"),
    ({"verb": "Harvest"}, "badVerb"),
    ({"verb": "ListRecords"}, "badArgument"),  # no metadataPrefix
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "colour": "red"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2011-02-01",
      "until": "2011-01-01"}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
     "badArgument"),  # a token is exclusive
    ({"verb": "GetRecord", "identifier": oai_id(1)}, "badArgument"),
    ({"verb": "Identify", "identifier": oai_id(1)}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "bm90IGEgdG9rZW4"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "mods"}, "cannotDisseminateFormat"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "subject:nothing"},
     "noRecordsMatch"),
    ({"verb": "GetRecord", "identifier": "oai:elsewhere:1", "metadataPrefix": "oai_dc"},
     "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": oai_id(7)}, "idDoesNotExist"),
])
def test_protocol_errors(served: SampleServer, params: dict[str, str], code: str) -> None:
    root = ask(served, **params)
    assert error_of(root) == code
    request = root.find("o:request", NS)
    assert request is not None and request.text == oai_url(served)
    # badVerb and badArgument answers echo no arguments (the protocol says so)
    assert (dict(request.attrib) == {}) == (code in ("badVerb", "badArgument"))


def test_repeated_arguments_and_post(served: SampleServer) -> None:
    reply = fetch(served.base_url, "/oai?verb=Identify&verb=Identify")
    assert error_of(etree.fromstring(reply.body)) == "badVerb"
    reply = fetch(served.base_url, "/oai?verb=ListSets&x=1&x=2")
    assert error_of(etree.fromstring(reply.body)) == "badArgument"
    with Scythe(oai_url(served), http_config=HTTPConfig(http_method="POST")) as scythe:
        headers = list(scythe.list_identifiers(metadata_prefix="oai_dc"))
    assert len(headers) == 40


def test_new_edited_and_deleted_documents_get_later_datestamps(served: SampleServer) -> None:
    control = served.control()
    sickle = Sickle(oai_url(served))
    before = response_date(served)
    new = control.publish(2)
    old = served.archive.record_ids()[4]
    control.edit(old)
    gone = served.archive.record_ids()[9]
    control.withdraw(gone, 410)
    changed = {h.identifier: h for h in sickle.ListIdentifiers(
        metadataPrefix="oai_dc", **{"from": before})}
    assert sorted(changed) == sorted(oai_id(r) for r in [*new, old, gone])
    assert all(h.datestamp > before for h in changed.values())
    assert changed[oai_id(gone)].deleted and not changed[oai_id(old)].deleted
    after = response_date(served)
    assert after > max(h.datestamp for h in changed.values())
    edited = sickle.GetRecord(identifier=oai_id(old), metadataPrefix="oai_dc")
    truth = control.expected(old)
    assert edited.metadata["title"] == [f"{truth['title']} (revised, edit 1)"]
    assert edited.metadata["description"] == [truth["summary"]]  # the edited summary
    deleted = sickle.GetRecord(identifier=oai_id(gone), metadataPrefix="oai_dc")
    assert deleted.deleted and deleted.header.deleted
    # deletedRecord persistent: a deleted record stays in the full list, as deleted
    every = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=False))
    assert len(every) == 42 and [h.identifier for h in every if h.deleted] == [oai_id(gone)]
    control.restore(gone)
    back = sickle.GetRecord(identifier=oai_id(gone), metadataPrefix="oai_dc")
    assert not back.header.deleted and back.header.datestamp > after


def test_day_granularity_switch(served: SampleServer) -> None:
    control = served.control()
    control.set_oai(granularity="day")
    sickle = Sickle(oai_url(served))
    identify = sickle.Identify()
    assert identify.granularity == "YYYY-MM-DD" and DAY.match(identify.earliestDatestamp)
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc"))
    assert len(headers) == 40 and all(DAY.match(h.datestamp) for h in headers)
    for stamp in ("2011-01-05T00:00:00Z", "2011-01-05T12:00:00Z"):
        root = ask(served, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": stamp})
        assert error_of(root) == "badArgument"
    got = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", until="2011-01-05"))
    assert [h.identifier for h in got] == [h.identifier for h in headers
                                           if h.datestamp <= "2011-01-05"]
    assert control.oai()["errors"] == {"badArgument": 2}


def test_forbidden_characters_switch(served: SampleServer) -> None:
    control = served.control()
    rid = served.archive.record_ids()[2]
    control.set_oai(forbidden_chars=[rid])
    body = fetch(served.base_url, "/oai?" + urlencode(
        {"verb": "GetRecord", "identifier": oai_id(rid), "metadataPrefix": "oai_dc"})).body
    assert b"\x0b" in body and b"&#x1F;" in body and b"\x01" in body
    with pytest.raises(etree.XMLSyntaxError):  # not XML 1.0 any more
        etree.fromstring(body)
    other = served.archive.record_ids()[3]
    clean = fetch(served.base_url, "/oai?" + urlencode(
        {"verb": "GetRecord", "identifier": oai_id(other), "metadataPrefix": "oai_dc"})).body
    etree.fromstring(clean)


def test_unavailable_switch_answers_503_with_an_http_date(served: SampleServer) -> None:
    control = served.control()
    control.set_oai(unavailable=2, retry_after=3)
    assert ask(served, verb="Identify").find("o:Identify", NS) is not None  # not a list
    for _ in range(2):
        reply = fetch(served.base_url, "/oai?verb=ListRecords&metadataPrefix=oai_dc")
        assert reply.status == 503
        when = parsedate_to_datetime(reply.headers["retry-after"])  # an HTTP date
        assert when.tzinfo is not None and reply.headers["retry-after"].endswith("GMT")
    reply = fetch(served.base_url, "/oai?verb=ListRecords&metadataPrefix=oai_dc")
    assert reply.status == 200
    state = control.oai()
    assert state["busy_answers"] == 2 and state["unavailable"] == 0
    assert state["early_retries"] == 2  # asked again at once, not at the date given


def test_expiring_tokens_switch(served: SampleServer) -> None:
    control = served.control()
    first = ask(served, verb="ListRecords", metadataPrefix="oai_dc")
    token = first.findtext("o:ListRecords/o:resumptionToken", namespaces=NS)
    assert token and error_of(ask(served, verb="ListRecords", resumptionToken=token)) is None
    control.expire_oai_tokens()
    with pytest.raises(BadResumptionToken):  # every token issued so far is refused
        list(Sickle(oai_url(served)).ListRecords(resumptionToken=token))
    # expire_tokens_after: the third list request from now finds the tokens refused
    control.set_oai(expire_tokens_after=2)
    one = ask(served, verb="ListIdentifiers", metadataPrefix="oai_dc")
    t1 = one.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    two = ask(served, verb="ListIdentifiers", resumptionToken=t1 or "")
    t2 = two.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    assert error_of(two) is None
    assert error_of(ask(served, verb="ListIdentifiers", resumptionToken=t2 or "")) \
        == "badResumptionToken"
    fresh = ask(served, verb="ListIdentifiers", metadataPrefix="oai_dc")  # new tokens work
    t3 = fresh.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    assert error_of(ask(served, verb="ListIdentifiers", resumptionToken=t3 or "")) is None


def test_download_links_of_the_records_serve_the_download() -> None:
    archive = SampleArchive(12)
    i = next(i for i in range(archive.size) if archive.document(i).has_download)
    doc = archive.document(i)
    with SampleServer(archive) as server:
        plain = fetch(server.base_url, doc.download_path)
        linked = fetch(server.base_url, f"{doc.download_path}/{doc.record_id}.pdf")
        wrong = fetch(server.base_url, f"{doc.download_path}/{doc.record_id + 1}.pdf")
        assert linked.status == 200 and linked.body == plain.body
        assert wrong.status == 404
        assert server.stats.snapshot()["by_kind"]["download"] == 3
