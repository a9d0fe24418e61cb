"""Any OAI-PMH 2.0 repository, as a source of the engine (see source.py for the walk,
mapping.py for the record, response.py for reading what repositories send)."""

from __future__ import annotations

from harvester.sites.oai.mapping import RECORD_FIELDS
from harvester.sites.oai.source import OaiSource, OaiStep

__all__ = ["RECORD_FIELDS", "OaiSource", "OaiStep"]
