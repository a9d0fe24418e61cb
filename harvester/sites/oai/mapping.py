"""An OAI-PMH record as the harvester's record: oai_dc onto the core fields, the header and
the raw metadata in the source's own fields.

| record field | from |
| --- | --- |
| record_id | the header's identifier |
| url | the first http(s) dc:identifier that is not a file, else the GetRecord URL |
| title | the first dc:title (other formats: the first element named title, else the id) |
| date, date_text | the first dc:date as Wilson's dates (YYYY[-MM[-DD]]; "ca. 1908": 1908), as given |
| summary | dc:description, one line each |
| authors | dc:creator |
| subjects, places | dc:subject, dc:coverage |
| rights, source | dc:rights, dc:source (one line each) |
| languages, type | dc:language, the first dc:type |
| files | dc:identifier links to PDFs and images on the repository's host (or `file_hosts`) |
| oai_datestamp, oai_sets | the header's datestamp and setSpecs |
| oai_identifiers | every dc:identifier |
| oai_metadata | {metadataPrefix: the <metadata> child as an XML string} |

texts, people are [] and uploaded is null: OAI-PMH has no such parts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from copy import deepcopy
from typing import Any
from urllib.parse import urlencode, urlsplit

from lxml import etree

from harvester.cleaners import normalize_space, parse_date, parse_iso_date
from harvester.sites.oai.response import DC, RawRecord

FILE_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".jp2", ".webp")
_YEAR = re.compile(r"^(\d{4})(?:\b|$)")
# what catalogues put around an approximate or inferred date: "[1908?]", "ca. 1908",
# "c1908", "circa 1908", "[ca. 1920]", "approximately 1930", "about 1930"
_QUALIFIED = re.compile(
    r"^\[?\s*(?:(?:ca|c|circa|approx(?:imately)?|about|around)\b\.?\s*|c(?=\d{4}))?"
    r"(?P<date>\d{4}[^\[\]]*?)\s*\??\s*\]?\s*\??$", re.IGNORECASE)

# JSON Schema properties of the source's own fields ($defs are the core schema's).
RECORD_FIELDS: dict[str, dict[str, Any]] = {
    "oai_datestamp": {"type": "string", "pattern": r"^\S(?:.*\S)?$", "maxLength": 64},
    "oai_sets": {"$ref": "#/$defs/strings"},
    "oai_identifiers": {"$ref": "#/$defs/strings"},
    "oai_metadata": {"type": "object", "additionalProperties": {"type": "string"}},
}


def _own_xml(element: Any) -> str:
    """The element as XML text with only the namespaces it uses (not the envelope's)."""
    copy = deepcopy(element)
    etree.cleanup_namespaces(copy)
    return str(etree.tostring(copy, encoding="unicode"))


def oai_url(endpoint: str, params: Mapping[str, str]) -> str:
    """The URL of a request with `params` at `endpoint`. An endpoint with a query of its own
    (`oai.php?repository=x`) keeps it, the protocol's arguments after it; a trailing `?` or
    `&` is not doubled."""
    base = endpoint.rstrip("?&")
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


def get_record_url(endpoint: str, identifier: str, prefix: str) -> str:
    return oai_url(endpoint, {"verb": "GetRecord", "identifier": identifier,
                              "metadataPrefix": prefix})


def _values(metadata: Any, name: str) -> list[str]:
    out: list[str] = []
    for element in metadata.iter(f"{{{DC}}}{name}"):
        text = normalize_space("".join(element.itertext()))
        if text and text not in out:
            out.append(text)
    return out


def _any_title(metadata: Any) -> str | None:
    for element in metadata.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname.lower() == "title":
            text = normalize_space("".join(element.itertext()))
            if text:
                return text
    return None


def normalise_date(text: str | None) -> str | None:
    """A dc:date at its precision: "1950-07-01", "1955-04", "1950"; a year for a longer
    text starting with one ("1950-1955", "1950?"); the date inside a catalogue's qualifier
    of an approximate or inferred date ("ca. 1908", "[1908?]", "c1908", "circa 1908-05");
    None otherwise ("1950s", "20th century", "n.d.")."""
    if not text:
        return None
    found = parse_date(text) or parse_iso_date(text)
    if found:
        return found
    text = text.strip()
    qualified = _QUALIFIED.match(text)
    if qualified:  # the date inside the qualifier (date_text keeps the qualifier)
        text = qualified.group("date")
        found = parse_date(text) or parse_iso_date(text)
        if found:
            return found
    match = _YEAR.match(text)
    return match.group(1) if match and int(match.group(1)) > 0 else None


def _is_file(url: str, hosts: frozenset[str]) -> bool:
    parts = urlsplit(url)
    return (("*" in hosts or (parts.hostname or "").lower() in hosts)
            and parts.path.lower().endswith(FILE_EXTENSIONS))


def to_fields(raw: RawRecord, *, endpoint: str, prefix: str,
              file_hosts: tuple[str, ...] = ()) -> dict[str, Any]:
    """The record fields of one (not deleted) OAI-PMH record. `file_hosts`: hosts besides
    the endpoint's whose file links are the record's files ("*": any host)."""
    metadata = raw.metadata
    host = frozenset({(urlsplit(endpoint).hostname or "").lower(),
                      *(h.lower() for h in file_hosts)})
    is_dc = prefix == "oai_dc" or metadata.find(f".//{{{DC}}}title") is not None
    identifiers = _values(metadata, "identifier")
    links = [u for u in identifiers if urlsplit(u).scheme in ("http", "https")
             and " " not in u]
    files = [u for u in links if _is_file(u, host)]
    pages = [u for u in links if u not in files]
    titles = _values(metadata, "title") if is_dc else []
    title = titles[0] if titles else (_any_title(metadata) or raw.identifier)
    dates = _values(metadata, "date")
    descriptions = _values(metadata, "description")
    rights = _values(metadata, "rights")
    sources = _values(metadata, "source")
    types = _values(metadata, "type")
    return {
        "record_id": raw.identifier,
        "url": pages[0] if pages else get_record_url(endpoint, raw.identifier, prefix),
        "title": title,
        "date": normalise_date(dates[0]) if dates else None,
        "date_text": dates[0] if dates else None,
        "summary": "\n".join(descriptions) or None,
        "texts": [],
        "authors": _values(metadata, "creator"),
        "places": _values(metadata, "coverage"),
        "subjects": _values(metadata, "subject"),
        "people": [],
        "source": "\n".join(sources) or None,
        "rights": "\n".join(rights) or None,
        "uploaded": None,
        "type": types[0] if types else None,
        "languages": _values(metadata, "language"),
        "files": [{"url": u, "key": None, "sha256": None, "size": None, "content_type": None}
                  for u in files],
        "oai_datestamp": raw.datestamp or "unknown",
        "oai_sets": raw.sets,
        "oai_identifiers": identifiers,
        "oai_metadata": {prefix: _own_xml(metadata)},
    }
