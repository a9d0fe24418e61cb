"""Metadata formats the provider disseminates.

- `oai_dc` for every record, with the README's Dublin Core mapping
  (`harvester.export.dc.dc_elements`, the same function the `dc` export uses).
- The raw metadata of records harvested from an OAI-PMH source, under its own prefix: such
  records carry `oai_metadata` = {prefix: the <metadata> child as an XML string}; a prefix
  is offered when a record carries it, with the namespace and schema its XML names.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from harvester.export.dc import DC, NSMAP, OAI_DC, SCHEMA_LOCATION, XSI, dc_elements

OAI_DC_FORMAT = {"schema": "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                 "namespace": OAI_DC}

# XML from the store is data: no entities resolved, no network, no huge trees.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_blank_text=True)


def parse_xml(xml: str) -> Any:
    """The root element of an XML string, None when it is not well-formed XML."""
    try:
        root = etree.fromstring(xml.encode("utf-8"), _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return root if isinstance(root.tag, str) else None


def describe_format(xml: str) -> tuple[str, str] | None:
    """(namespace, schema) the metadata's root element names; None when not XML."""
    root = parse_xml(xml)
    if root is None:
        return None
    namespace = etree.QName(root).namespace or ""
    schema = ""
    location = (root.get(f"{{{XSI}}}schemaLocation") or "").split()
    for name, url in zip(location[::2], location[1::2], strict=False):
        if name == namespace:
            schema = url
            break
    if not schema and location:
        schema = location[-1]
    return namespace, schema


def oai_dc(record: dict[str, Any]) -> Any:
    """The record's oai_dc element (for a <metadata> element)."""
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap=NSMAP)
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    for name, text in dc_elements(record):
        etree.SubElement(root, f"{{{DC}}}{name}").text = text
    return root


def metadata(record: dict[str, Any], prefix: str) -> Any:
    """The record's metadata element in `prefix`; None when it has none in that format."""
    if prefix == "oai_dc":
        return oai_dc(record)
    raw = record.get("oai_metadata")
    if not isinstance(raw, dict) or not isinstance(raw.get(prefix), str):
        return None
    return parse_xml(raw[prefix])
