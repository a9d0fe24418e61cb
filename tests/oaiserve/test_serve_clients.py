"""The provider answered by OAI-PMH clients no one on the team wrote (Sickle over GET,
oaipmh-scythe over POST), on a store harvested from the sample archive with edits and
withdrawals, through the real `harvester serve oai` command."""

from __future__ import annotations

import re

from oaipmh_scythe import HTTPConfig, Scythe
from serve_support import Harvested, Provider
from sickle import Sickle

NS = "archive-harvester.local"
SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _identifier(rid: str) -> str:
    return f"oai:{NS}:wilson:{rid}"


def test_sickle_lists_every_stored_record_with_its_title_and_the_withdrawn_as_deleted(
        harvested: Harvested, served: Provider) -> None:
    sickle = Sickle(served.url)  # GET
    got = {}
    for record in sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False):
        assert record.header.identifier not in got  # each once
        got[record.header.identifier] = record
    assert sorted(got) == sorted(_identifier(rid) for rid in harvested.records)
    for rid, stored in harvested.records.items():
        record = got[_identifier(rid)]
        assert SECONDS.match(record.header.datestamp)
        if rid in harvested.withdrawn:
            assert record.header.deleted and stored["status"] == "withdrawn"
        else:
            assert not record.header.deleted
            assert record.metadata["title"] == [stored["title"]]
            assert stored["url"] in record.metadata["identifier"]
            assert "wilson" in record.header.setSpecs


def test_scythe_over_post_lists_the_same_headers(harvested: Harvested, served: Provider
                                                 ) -> None:
    with Scythe(served.url, http_config=HTTPConfig(http_method="POST")) as scythe:
        headers = list(scythe.list_identifiers(metadata_prefix="oai_dc"))
        records = {r.header.identifier: r for r in scythe.list_records(metadata_prefix="oai_dc")}
    assert sorted(h.identifier for h in headers) == sorted(_identifier(r) for r in harvested.records)
    deleted = sorted(h.identifier for h in headers if h.deleted)
    assert deleted == sorted(_identifier(r) for r in harvested.withdrawn)
    for rid in harvested.edited:  # the edited documents: their new titles
        assert records[_identifier(rid)].metadata["title"] == [harvested.records[rid]["title"]]


def test_from_selects_only_what_changed(harvested: Harvested, served: Provider) -> None:
    sickle = Sickle(served.url)
    changed = {h.identifier: h for h in sickle.ListIdentifiers(
        metadataPrefix="oai_dc", **{"from": harvested.changed_after})}
    assert sorted(changed) == sorted(_identifier(r) for r in harvested.edited + harvested.withdrawn)
    assert all(h.datestamp >= harvested.changed_after for h in changed.values())
    assert {i for i, h in changed.items() if h.deleted} == {_identifier(r) for r in harvested.withdrawn}
    # until: the complement
    before = [h.identifier for h in sickle.ListIdentifiers(
        metadataPrefix="oai_dc", until=harvested.changed_after)]
    assert len(before) == len(harvested.records) - len(changed)
    assert not set(before) & set(changed)


def test_identify_sets_and_formats(harvested: Harvested, served: Provider) -> None:
    sickle = Sickle(served.url)
    identify = sickle.Identify()
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.deletedRecord == "persistent"
    assert identify.protocolVersion == "2.0"
    assert identify.baseURL == served.url
    assert SECONDS.match(identify.earliestDatestamp)
    sets = {s.setSpec: s.setName for s in sickle.ListSets()}
    assert sets["wilson"] == "Wilson Center Digital Archive"
    types = {r["type"] for r in harvested.records.values() if r.get("type")}
    assert len(sets) == 1 + len(types)
    telegrams = sorted(rid for rid, r in harvested.records.items() if r.get("type") == "Telegram")
    assert telegrams and sets["wilson:telegram"] == "Telegram"
    in_set = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc",
                                                           set="wilson:telegram")]
    assert sorted(in_set) == sorted(_identifier(r) for r in telegrams)
    # the sample's records come from the website, not from an OAI source: oai_dc only
    assert [f.metadataPrefix for f in sickle.ListMetadataFormats()] == ["oai_dc"]


def test_get_record_active_and_deleted(harvested: Harvested, served: Provider) -> None:
    with Scythe(served.url, http_config=HTTPConfig(http_method="POST")) as scythe:
        rid = harvested.edited[0]
        record = scythe.get_record(identifier=_identifier(rid), metadata_prefix="oai_dc")
        assert record.metadata["title"] == [harvested.records[rid]["title"]]
        gone = scythe.get_record(identifier=_identifier(harvested.withdrawn[0]),
                                 metadata_prefix="oai_dc")
        assert gone.header.deleted


def test_metrics_count_requests_by_verb_and_errors_by_code(served: Provider) -> None:
    import urllib.request

    urllib.request.urlopen(served.url + "?verb=Nonsense", timeout=30).read()
    Sickle(served.url).Identify()
    text = urllib.request.urlopen(served.url.removesuffix("/oai") + "/metrics",
                                  timeout=30).read().decode()
    assert re.search(r'^oai_requests_total\{verb="Identify"\} [1-9]', text, re.M)
    assert re.search(r'^oai_errors_total\{code="badVerb"\} [1-9]', text, re.M)
    assert 'oai_request_duration_seconds_bucket{le="0.1",verb="ListRecords"}' in text
