"""The OAI source's own record fields: real records take the validator's fast path, and the
fast path never accepts what the schema refuses (oai_metadata is an object of strings)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester.record import RecordSchema
from harvester.sites.oai import RECORD_FIELDS, OaiSource

SCHEMA = RecordSchema(RECORD_FIELDS)
SOURCE = OaiSource(name="r", endpoint="http://r.test/oai")
PAGE = (b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-03-01T12:00:00Z'
        b'</responseDate><ListRecords><record><header><identifier>oai:r.test:1</identifier>'
        b'<datestamp>2024-03-01</datestamp><setSpec>a:b</setSpec></header><metadata>'
        b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title><dc:date>1950?'
        b'</dc:date><dc:identifier>http://r.test/files/1.pdf</dc:identifier></oai_dc:dc>'
        b'</metadata></record></ListRecords></OAI-PMH>')


def record() -> dict[str, Any]:
    fields = dict(SOURCE.parse_listing(PAGE, "http://r.test/oai?verb=ListRecords").records[0])
    fields.pop("_raw")
    return SCHEMA.ordered({"site": "r", **fields, "content_sha256": "0" * 64,
                           "harvested_at": "2024-03-01T12:00:00Z", "status": "active",
                           "withdrawn_at": None})


def test_real_records_take_the_fast_path() -> None:
    rec = record()
    assert SCHEMA.fast and SCHEMA.surely_valid(rec)
    SCHEMA.validate(rec)
    assert rec["date"] == "1950" and rec["oai_sets"] == ["a:b"]
    assert rec["url"].startswith("http://r.test/oai?verb=GetRecord")  # the only link is a file
    assert [f["url"] for f in rec["files"]] == ["http://r.test/files/1.pdf"]


_values = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=8),
              st.sampled_from(["", " x", "2024-03-01", "a\nb", "<x/>"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(RECORD_FIELDS)), _values)
def test_fast_path_never_accepts_what_the_schema_refuses(name: str, value: Any) -> None:
    rec = copy.deepcopy(record())
    rec[name] = value
    if SCHEMA.surely_valid(rec):
        assert not list(SCHEMA.validator.iter_errors(rec)), (name, value)
