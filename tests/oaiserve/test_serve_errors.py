"""Every OAI-PMH error code, answered as OAI XML with HTTP 200, over GET (read with lxml)
and POST (oaipmh-scythe raises the error's own exception)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import oaipmh_scythe as scythe_errors
import pytest
from lxml import etree
from oaipmh_scythe import HTTPConfig, Scythe
from serve_support import Harvested, Provider, provider

OAI = "{http://www.openarchives.org/OAI/2.0/}"
NS = "archive-harvester.local"


def get(url: str, query: str) -> etree._Element:
    with urllib.request.urlopen(f"{url}?{query}", timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/xml")
        return etree.fromstring(response.read())


def error_of(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


def first_token(url: str, verb: str = "ListIdentifiers") -> str:
    root = get(url, f"verb={verb}&metadataPrefix=oai_dc")
    token = root.find(f".//{OAI}resumptionToken")
    assert token is not None and token.text
    return token.text


@pytest.mark.parametrize(("query", "code"), [
    ("", "badVerb"),
    ("verb=", "badVerb"),
    ("verb=ListAll", "badVerb"),
    ("verb=Identify&verb=Identify", "badVerb"),
    ("verb=Identify&metadataPrefix=oai_dc", "badArgument"),
    ("verb=GetRecord&identifier=oai:x.y:wilson:1", "badArgument"),  # no metadataPrefix
    ("verb=ListRecords", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=yesterday", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-02-30", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2020-01-01T00:00:00", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2020-01-01&until=2030-01-01T00:00:00Z",
     "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=not%20a%20set", "badArgument"),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&resumptionToken=abc", "badArgument"),
    ("verb=ListIdentifiers&resumptionToken=abc", "badResumptionToken"),
    ("verb=ListSets&resumptionToken=abc", "badResumptionToken"),
    ("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat"),
    (f"verb=GetRecord&metadataPrefix=marc21&identifier=oai:{NS}:wilson:100005",
     "cannotDisseminateFormat"),
    (f"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{NS}:wilson:no-such-id",
     "idDoesNotExist"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:other.org:wilson:100005",
     "idDoesNotExist"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=100005", "idDoesNotExist"),
    ("verb=ListMetadataFormats&identifier=oai:nope", "idDoesNotExist"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2999-01-01", "noRecordsMatch"),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&until=1990-01-01T00:00:00Z", "noRecordsMatch"),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=wilson:no-such-type", "noRecordsMatch"),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=gallica", "noRecordsMatch"),
])
def test_each_error_over_get(served: Provider, query: str, code: str) -> None:
    root = get(served.url, query)
    assert error_of(root) == code
    request = root.find(f"{OAI}request")
    assert request is not None and request.text == served.url
    if code in ("badVerb", "badArgument"):
        assert dict(request.attrib) == {}  # the protocol: no attributes for these two


def test_altered_and_foreign_tokens_are_bad_and_a_good_one_works(served: Provider,
                                                                 tmp_path: Path) -> None:
    token = first_token(served.url)
    assert error_of(get(served.url, "verb=ListIdentifiers&resumptionToken="
                        + urllib.parse.quote(token))) is None
    altered = token[:-1] + ("0" if token[-1] != "0" else "1")
    flipped = ("B" if token[0] != "B" else "C") + token[1:]
    for bad in (altered, flipped, token + "x", token.split(".")[0]):
        root = get(served.url, "verb=ListIdentifiers&resumptionToken=" + urllib.parse.quote(bad))
        assert error_of(root) == "badResumptionToken"
    # a ListIdentifiers token does not continue a ListRecords
    root = get(served.url, "verb=ListRecords&resumptionToken=" + urllib.parse.quote(token))
    assert error_of(root) == "badResumptionToken"


def test_errors_raised_by_scythe_over_post(served: Provider) -> None:
    cases = [
        ({"verb": "Nonsense"}, scythe_errors.BadVerb),
        ({"verb": "ListRecords"}, scythe_errors.BadArgument),
        ({"verb": "ListRecords", "resumptionToken": "x.y"}, scythe_errors.BadResumptionToken),
        ({"verb": "ListRecords", "metadataPrefix": "mods"}, scythe_errors.CannotDisseminateFormat),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:a.b:c:d"},
         scythe_errors.IdDoesNotExist),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2999-01-01"},
         scythe_errors.NoRecordsMatch),
    ]
    with Scythe(served.url, http_config=HTTPConfig(http_method="POST")) as scythe:
        for query, error in cases:
            with pytest.raises(error):
                scythe.harvest(query)


def test_an_empty_store_has_no_set_hierarchy_and_no_records(tmp_path: Path) -> None:
    with provider(str(tmp_path / "empty")) as p:
        assert error_of(get(p.url, "verb=ListSets")) == "noSetHierarchy"
        assert error_of(get(p.url, "verb=ListIdentifiers&metadataPrefix=oai_dc&set=wilson")) \
            == "noSetHierarchy"
        assert error_of(get(p.url, "verb=ListRecords&metadataPrefix=oai_dc")) == "noRecordsMatch"
        identify = get(p.url, "verb=Identify")
        assert error_of(identify) is None
        with Scythe(p.url, http_config=HTTPConfig(http_method="POST")) as scythe, \
                pytest.raises(scythe_errors.NoSetHierarchy):
            scythe.harvest({"verb": "ListSets"})


def test_not_oai_paths_and_methods(served: Provider) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(served.url.removesuffix("/oai") + "/other", timeout=30)
    assert missing.value.code == 404
    missing.value.close()
    request = urllib.request.Request(served.url, method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as method:
        urllib.request.urlopen(request, timeout=30)
    assert method.value.code == 405
    method.value.close()


def test_harvested_store_fixture_has_withdrawals(harvested: Harvested) -> None:
    assert {harvested.records[r]["status"] for r in harvested.withdrawn} == {"withdrawn"}
