"""Records finalized where their listing page is parsed: in the extraction worker.

The records that come whole with a listing page (OAI-PMH's ListRecords: 100 or more a page)
are finalized (harvester.record.finalize: the content hash, the field order, the schema's
check, the harvest time: the page's parse) and encoded as they are stored by the worker that
parses the page, beside the reactor's thread instead of on it, with the source's own schema.
`read_listing` runs there; each record it could finalize comes back with its JSON in its
fields (`ENCODED`, taken off by the spider into the item: DocumentItem.encoded), and
ValidatePipeline passes a record that has it on as it is. StorePipeline writes the encoded JSON unless a
pipeline changed the record on the way (FilesPipeline, which adds the files' keys and
hashes, and DedupPipeline drop it) or the run has pipelines of its own (then every record is
encoded again). A record the schema refuses comes back as it was parsed, with its raw
XML as bytes (`_raw`), and ValidatePipeline finalizes it as any other: it is quarantined
there with its reason and that XML. A finalized record's raw XML is neither written out
nor sent back (nothing downstream of the worker reads it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from harvester.record import encode_record, finalize, source_schema

# a listed record's fields are the finalized record already, and this is its JSON as stored
# (harvester.record.encode_record)
ENCODED = "_encoded"


def prepare(source: Any) -> None:
    """Run once in a fresh worker before its first page: the source's modules are imported
    (unpickling it) and its record schema made."""
    source_schema(source)


def read_listing(source: Any, body: bytes, url: str, site: str) -> Any:
    """`source.parse_listing(body, url)`, its whole records finalized for `site`."""
    step = source.parse_listing(body, url)
    records = getattr(step, "records", None)
    if not records:
        return step
    schema = source_schema(source)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # context.utc_now's format
    for index, fields in enumerate(records):
        raw = fields.pop("_raw", None)
        try:
            record = finalize(fields, site=site, harvested_at=stamp, schema=schema)
        except Exception:  # noqa: BLE001 - InvalidRecord or a bug: ValidatePipeline's
            record = fields  # finalize meets it again, and quarantines with the reason
            if raw is not None:  # with the record's XML (bytes: the step is pickled)
                record["_raw"] = raw_bytes(raw)
        else:
            # its XML is for the quarantine only, which a finalized record never reaches
            # (ValidatePipeline passes it on as it is): not written out, not sent back
            record[ENCODED] = encode_record(record)
        records[index] = record
    return step


def raw_bytes(raw: Any) -> bytes:
    """A listed record's raw form as bytes: a source's `_raw` field is bytes, a str, or an
    object with the bytes as `xml` (harvester.sites.oai.response.RawRecord: written out
    when asked)."""
    if isinstance(raw, bytes):
        return raw
    xml = getattr(raw, "xml", None)
    if isinstance(xml, bytes):
        return xml
    return str(raw).encode("utf-8")
