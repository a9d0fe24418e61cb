"""The WSGI application in process: raw OAI metadata under its own prefix, identifiers of
records whose ids hold colons, settings, and bad arguments of every kind answered as OAI
XML with HTTP 200 (hypothesis), never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_store import OAI, call, error_code, oai, put_run, record

from harvester.exceptions import ConfigError, StoreError
from harvester.oaiserve.app import OaiApp
from harvester.oaiserve.build import build_index
from harvester.oaiserve.config import OaiSettings, load_settings
from pipelines.storage import open_store

MARC = "{http://www.loc.gov/MARC21/slim}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OaiApp]:
    store = open_store(str(tmp_path_factory.mktemp("app") / "s"))
    put_run(store, "gallica", "20260101T000000Z-abcdef12", [
        record("gallica", "oai:example.org:1/a", "2026-01-01T00:00:01Z", marc=True, type_=None),
        record("gallica", "oai:example.org:2", "2026-01-01T00:00:02Z", type_=None)])
    put_run(store, "wilson", "20260101T000000Z-abcdef13", [
        record("wilson", "100005", "2026-01-01T00:00:03Z"),
        record("wilson", "100006", "2026-01-01T00:00:04Z", status="withdrawn")],
        withdrawn=("100006",))
    build_index(store)
    application = OaiApp(store, OaiSettings(namespace="archive.example.org", page_size=2))
    yield application
    application.close()


GALLICA_1 = "oai:archive.example.org:gallica:oai:example.org:1/a"


def test_raw_metadata_is_offered_under_its_prefix_only_where_records_carry_it(app: OaiApp
                                                                               ) -> None:
    formats = oai(app, {"verb": "ListMetadataFormats"})
    prefixes = [e.text for e in formats.iter(f"{OAI}metadataPrefix")]
    assert prefixes == ["oai_dc", "marcxml"]
    assert "http://www.loc.gov/MARC21/slim" in [e.text for e in
                                                formats.iter(f"{OAI}metadataNamespace")]
    mine = oai(app, {"verb": "ListMetadataFormats", "identifier": GALLICA_1})
    assert [e.text for e in mine.iter(f"{OAI}metadataPrefix")] == ["oai_dc", "marcxml"]
    other = oai(app, {"verb": "ListMetadataFormats",
                      "identifier": "oai:archive.example.org:wilson:100005"})
    assert [e.text for e in other.iter(f"{OAI}metadataPrefix")] == ["oai_dc"]
    got = oai(app, {"verb": "GetRecord", "metadataPrefix": "marcxml", "identifier": GALLICA_1},
              "POST")
    assert [e.text for e in got.iter(f"{MARC}subfield")] == ["oai:example.org:1/a"]
    assert [e.text for e in got.iter(f"{OAI}identifier")] == [GALLICA_1]
    listed = oai(app, {"verb": "ListRecords", "metadataPrefix": "marcxml"})
    assert [e.text for e in listed.iter(f"{OAI}identifier")] == [GALLICA_1]
    assert error_code(oai(app, {"verb": "GetRecord", "metadataPrefix": "marcxml",
                                "identifier": "oai:archive.example.org:wilson:100005"})) \
        == "cannotDisseminateFormat"


def test_identify_names_the_namespace_and_a_sample_identifier(app: OaiApp) -> None:
    root = oai(app, {"verb": "Identify"})
    assert root.findtext(f".//{OAI}baseURL") == "http://oai.test/oai"
    ident = "{http://www.openarchives.org/OAI/2.0/oai-identifier}"
    assert root.findtext(f".//{ident}repositoryIdentifier") == "archive.example.org"
    assert root.findtext(f".//{ident}sampleIdentifier") == GALLICA_1
    assert root.findtext(f".//{OAI}earliestDatestamp") == "2026-01-01T00:00:01Z"


def test_pages_of_two_with_tokens_and_a_deleted_header(app: OaiApp) -> None:
    root = oai(app, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    seen = []
    while True:
        seen += [(h.findtext(f"{OAI}identifier"), h.get("status"))
                 for h in root.iter(f"{OAI}header")]
        token = root.find(f".//{OAI}resumptionToken")
        if token is None or not token.text:
            break
        assert token.get("completeListSize") == "4"
        root = oai(app, {"verb": "ListIdentifiers", "resumptionToken": token.text}, "POST")
    assert seen[-1] == ("oai:archive.example.org:wilson:100006", "deleted")
    assert len(seen) == 4


def test_settings_from_the_environment_and_overrides() -> None:
    s = load_settings(["HARVESTER_OAI_PAGE_SIZE=5"], {"HARVESTER_OAI_NAMESPACE": "a.b.org",
                                                       "HARVESTER_OAI_PAGE_SIZE": "50"})
    assert (s.namespace, s.page_size) == ("a.b.org", 5)
    for bad in (["HARVESTER_OAI_PAGE_SIZE=zero"], ["HARVESTER_OAI_NAMESPACE=nodots"],
                ["NOT_A_SETTING=1"], ["HARVESTER_OAI_PAGE_SIZE=0"]):
        with pytest.raises(ConfigError):
            load_settings(bad, {})


NAMES = st.sampled_from(["verb", "metadataPrefix", "identifier", "from", "until", "set",
                         "resumptionToken", "other", ""])
VALUES = st.one_of(
    st.sampled_from(["Identify", "ListRecords", "ListIdentifiers", "GetRecord", "ListSets",
                     "ListMetadataFormats", "oai_dc", "marcxml", "2026-01-01",
                     "2026-01-01T00:00:00Z", "wilson", "gallica", "wilson:telegram",
                     GALLICA_1, "x.y", ""]),
    st.text(max_size=40))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(NAMES, VALUES), max_size=6), st.sampled_from(["GET", "POST"]))
def test_any_arguments_get_an_oai_answer(app: OaiApp, args: list[tuple[str, str]],
                                         method: str) -> None:
    root = oai(app, args, method)  # HTTP 200, well-formed XML
    assert root.tag == f"{OAI}OAI-PMH"
    names = [child.tag for child in root]
    assert names[:2] == [f"{OAI}responseDate", f"{OAI}request"]
    assert len(names) >= 3
    assert names[2] == f"{OAI}error" or names[2].removeprefix(OAI) in {
        "Identify", "ListRecords", "ListIdentifiers", "GetRecord", "ListSets",
        "ListMetadataFormats"}


def test_raw_bytes_and_odd_requests(app: OaiApp, tmp_path: Path) -> None:
    for query in ("verb=%FF%FE", "%00=%00", "verb=Identify&" + "a=1&" * 60, "&&&==",
                  "verb=ListRecords&metadataPrefix=oai_dc&from=2026-13-45"):
        status, body = call(app, query)
        assert status == "200 OK" and b"<error code=" in body


class BrokenStore:
    """A store that fails every read: the S3 server is down, or worse."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, key: str) -> bytes | None:
        raise self.error

    def list(self, prefix: str) -> Iterator[str]:
        raise self.error


@pytest.mark.parametrize(("error", "status"), [
    (StoreError("S3 is down"), "503 Service Unavailable"),
    (RuntimeError("a bug"), "500 Internal Server Error"),
])
def test_failures_answer_one_line_never_a_traceback(error: Exception, status: str) -> None:
    app = OaiApp(BrokenStore(error))
    try:
        got, body = call(app, {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    finally:
        app.close()
    assert got == status
    assert b"Traceback" not in body and b"a bug" not in body and body.count(b"\n") == 1
