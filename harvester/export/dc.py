"""Dublin Core export: one oai_dc XML document per record, <out>/<record_id>.xml
(<record_id> as in the store's keys: see harvester.keys.id_to_key_part).

One file per record (not one big container) so a downstream harvester can pick
up single records and an export never holds more than one record's tree.
Elements are repeated once per value, in this order:

| DC element      | record field(s)                                       |
| --------------- | ----------------------------------------------------- |
| dc:title        | title                                                 |
| dc:creator      | authors (one element each)                            |
| dc:subject      | subjects, then people (one element each)              |
| dc:description  | summary; for a withdrawn record, "Withdrawn ..." and its withdrawn_at |
| dc:publisher    | the archive (e.g. "Wilson Center Digital Archive")    |
| dc:date         | date (ISO 8601: YYYY, YYYY-MM or YYYY-MM-DD); else date_text |
| dc:type         | type (e.g. "Telegram"), then the DCMI type "Text"     |
| dc:identifier   | url, then record_id                                   |
| dc:source       | source (the citation), then original_archive (each)   |
| dc:language     | languages (one element each, as the archive names them) |
| dc:coverage     | places (one element each)                             |
| dc:rights       | rights                                                |

Empty and null values are left out. Text is XML-escaped by lxml; characters XML
1.0 cannot carry (C0 controls other than tab/newline/CR, U+FFFE/U+FFFF, lone
surrogates) are removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from harvester.export.source import archive_of
from harvester.keys import id_to_key_part, is_record_id

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
NSMAP = {"oai_dc": OAI_DC, "dc": DC, "xsi": XSI}

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(value: object) -> str:
    """`value` as text XML 1.0 can carry."""
    return _NOT_XML.sub("", str(value))


def _values(value: Any) -> Iterator[str]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if item is None:
            continue
        text = xml_text(item).strip()
        if text:
            yield text


def dc_elements(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(element name, text) pairs of a record, in the mapping's order."""
    archive, _ = archive_of(str(record.get("site", "")))
    date = record.get("date") or record.get("date_text")
    mapping: list[tuple[str, Any]] = [
        ("title", record.get("title")),
        ("creator", record.get("authors")),
        ("subject", record.get("subjects")),
        ("subject", record.get("people")),
        ("description", record.get("summary")),
        ("description", _withdrawn_note(record)),
        ("publisher", archive),
        ("date", date),
        ("type", record.get("type")),
        ("type", "Text"),
        ("identifier", record.get("url")),
        ("identifier", record.get("record_id")),
        ("source", record.get("source")),
        ("source", record.get("original_archive")),
        ("language", record.get("languages")),
        ("coverage", record.get("places")),
        ("rights", record.get("rights")),
    ]
    for name, value in mapping:
        for text in _values(value):
            yield name, text


def _withdrawn_note(record: dict[str, Any]) -> str | None:
    if record.get("status") != "withdrawn":
        return None
    when = record.get("withdrawn_at") or "an unknown time"
    return f"Withdrawn: the archive no longer offers this document (since {when})."


def dc_document(record: dict[str, Any]) -> bytes:
    """The record as an oai_dc XML document (UTF-8, with declaration)."""
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap=NSMAP)
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    for name, text in dc_elements(record):
        etree.SubElement(root, f"{{{DC}}}{name}").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_dc(records: Iterable[dict[str, Any]], out: str | Path) -> int:
    """Write <out>/<record_id>.xml for each record; returns how many."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for record in records:
        record_id = record.get("record_id")
        if not is_record_id(record_id):
            continue
        (folder / f"{id_to_key_part(record_id)}.xml").write_bytes(dc_document(record))
        count += 1
    return count
