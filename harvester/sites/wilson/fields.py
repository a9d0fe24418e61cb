"""The Wilson Center Digital Archive's own record fields, on top of the core schema
(harvester/schema/record.schema.json), and the contract's field order for its records."""

from __future__ import annotations

from typing import Any

from harvester.sites.wilson.page import WilsonDocumentPage

# JSON Schema properties ($defs are the core schema's).
RECORD_FIELDS: dict[str, dict[str, Any]] = {
    "node_id": {"type": ["string", "null"], "pattern": "^[0-9]{1,20}$"},  # Drupal's node id
    "original_archive": {"$ref": "#/$defs/strings"},
    "classification": {"$ref": "#/$defs/optionalLine"},
    "donors": {"$ref": "#/$defs/strings"},
    "credits": {"$ref": "#/$defs/optionalLine"},
}

# README "Record": site, the page's fields in the extractor's order, then the harvest's.
FIELD_ORDER = ("site", *WilsonDocumentPage.FIELDS, "content_sha256", "harvested_at", "status",
               "withdrawn_at")
