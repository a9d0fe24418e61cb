"""Listed records finalized where their page is parsed (harvester/prefinal.py): the record
is the one ValidatePipeline's own finalize makes, with the source's own schema and field
order, and its JSON the one StorePipeline would write; a record the schema refuses comes
back as it was parsed, so ValidatePipeline quarantines it with its reason. And the stored
JSON is encoded again when a pipeline of the run's own could have changed the record."""

from __future__ import annotations

import pickle

from harvester import registry
from harvester.prefinal import ENCODED, read_listing
from harvester.record import encode_record, finalize, source_schema
from harvester.sites.oai.source import OaiSource

SOURCE = registry.add(OaiSource(name="prefinal-test", endpoint="http://r.test/oai"))
SITE = SOURCE.name  # ValidatePipeline's finalize looks its schema up in the registry


def _page(*titles: str) -> bytes:
    records = "".join(
        f"<record><header><identifier>oai:r.test:{n}</identifier><datestamp>2024-01-0{n}"
        f"</datestamp></header><metadata><oai_dc:dc xmlns:oai_dc="
        f'"http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{title}</dc:title><dc:date>1950-07-0{n}</dc:date><dc:creator>A, B."
        f"</dc:creator></oai_dc:dc></metadata></record>" for n, title in enumerate(titles, 1))
    return (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/'
            f'OAI/2.0/"><responseDate>2024-02-01T00:00:00Z</responseDate><request>x</request>'
            f"<ListRecords>{records}</ListRecords></OAI-PMH>").encode()


URL = "http://r.test/oai?verb=ListRecords&metadataPrefix=oai_dc"


def test_finalized_records_are_the_pipelines_own_but_for_the_harvest_time() -> None:
    body = _page("First", "Second")
    parsed = SOURCE.parse_listing(body, URL).records
    step = pickle.loads(pickle.dumps(read_listing(SOURCE, body, URL, SITE)))  # as a worker's
    assert len(step.records) == 2
    for got, fields in zip(step.records, parsed, strict=True):
        # its raw XML is for the quarantine only, which a finalized record never reaches
        assert "_raw" not in got
        fields.pop("_raw")
        encoded = got.pop(ENCODED)
        want = finalize(fields, site=SITE, harvested_at=got["harvested_at"])
        assert got == want and list(got) == list(want)  # same fields, same order
        assert encoded == encode_record(want)  # the stored JSON, byte for byte
        assert got["site"] == SITE and got["status"] == "active"


def test_a_refused_record_comes_back_as_parsed() -> None:
    body = _page("Fine", "x" * 70000)  # longer than a title may be
    parsed = SOURCE.parse_listing(body, URL).records
    step = pickle.loads(pickle.dumps(read_listing(SOURCE, body, URL, SITE)))  # as a worker's
    good, refused = step.records
    assert isinstance(good[ENCODED], bytes)  # finalized, its JSON with it
    assert ENCODED not in refused
    raw = refused.pop("_raw")  # the record's XML as it came, for its quarantine
    assert isinstance(raw, bytes) and raw.startswith(b"<record") and b"x" * 70000 in raw
    assert raw == parsed[1].pop("_raw").xml
    assert refused == parsed[1]  # nothing else added


def test_the_schema_is_the_sources_own_not_the_registry_s() -> None:
    """A worker has no registry: the source's own fields decide (here: unknown name)."""
    schema = source_schema(SOURCE)
    assert "oai_metadata" in schema.fields
    assert source_schema(SOURCE) is schema  # one per distinct set of fields


def test_pipelines_of_a_runs_own_make_the_store_encode_every_record_again() -> None:
    from scrapy.settings import Settings

    from harvester import settings as defaults
    from pipelines.store import only_own_pipelines

    own = Settings()
    own.setmodule(defaults)
    assert only_own_pipelines(own)
    off = own.copy()
    off.set("ITEM_PIPELINES", {**own.getdict("ITEM_PIPELINES"), "pipelines.files.FilesPipeline": None})
    assert only_own_pipelines(off)  # one of ours switched off
    mine = own.copy()
    mine.set("ITEM_PIPELINES", {**own.getdict("ITEM_PIPELINES"), "mypkg.Tagger": 250})
    assert not only_own_pipelines(mine)
