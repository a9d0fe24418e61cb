"""Sources named in a TOML file (`--sources FILE`, default ./harvester.toml when present), so
a schedule says `harvester harvest gallica`:

    [sources.gallica]
    kind = "oai"                      # the only kind so far: an OAI-PMH 2.0 repository
    endpoint = "https://gallica.bnf.fr/services/OAIRepository"
    sets = ["gallica:typedoc:manuscrits"]   # optional; several allowed
    metadata_prefix = "oai_dc"        # optional
    download_delay = 2.0              # optional politeness: seconds between requests
    [sources.gallica.settings]        # optional: any harvester or Scrapy setting
    CONCURRENT_REQUESTS_PER_DOMAIN = 1

A source built from the file or the command line is added to the registry
(harvester.registry.add) and its description travels in command-line settings
(HARVESTER_OAI_*), so `--workers` processes build the same source.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from harvester.config import setting_int
from harvester.exceptions import ConfigError
from harvester.source import Source

DEFAULT_FILE = "harvester.toml"
KINDS = ("oai",)


def load(path: str | None) -> dict[str, dict[str, Any]]:
    """The sources of the file (`path`, else ./harvester.toml when present); {} for none."""
    file = Path(path) if path else Path(DEFAULT_FILE)
    if not file.exists():
        if path:
            raise ConfigError(f"sources file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"sources file {file} cannot be read: {exc}") from None
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, dict) for v in sources.values()):
        raise ConfigError(f"sources file {file}: [sources.NAME] tables expected")
    for name, entry in sources.items():
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"sources file {file}: source {name!r} has kind {kind!r} "
                              f"(known: {', '.join(KINDS)})")
        if not isinstance(entry.get("endpoint"), str):
            raise ConfigError(f"sources file {file}: source {name!r} needs an endpoint")
    return sources


def oai_settings(endpoint: str, sets: list[str] | tuple[str, ...], prefix: str | None,
                 file_hosts: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """The command-line settings that describe an OAI-PMH source (passed on to workers)."""
    out = {"HARVESTER_OAI_ENDPOINT": endpoint, "HARVESTER_OAI_SETS": " ".join(sets)}
    if prefix:
        out["HARVESTER_OAI_METADATA_PREFIX"] = prefix
    if file_hosts:
        out["HARVESTER_OAI_FILE_HOSTS"] = " ".join(file_hosts)
    return out


def entry_settings(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A file entry's own settings (politeness and the [settings] table)."""
    out: dict[str, Any] = {}
    if "download_delay" in entry:
        out["DOWNLOAD_DELAY"] = float(entry["download_delay"])
    table = entry.get("settings") or {}
    if not isinstance(table, dict):
        raise ConfigError("a source's settings must be a table")
    out.update(table)
    return out


def build_oai(name: str, settings: Any) -> Any:
    """The OaiSource that the HARVESTER_OAI_* settings describe, registered under `name`."""
    from harvester import registry
    from harvester.sites.oai import OaiSource

    endpoint = settings.get("HARVESTER_OAI_ENDPOINT") or ""
    if not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"--endpoint must be an http(s) URL, got {endpoint!r}")
    sets = tuple(str(settings.get("HARVESTER_OAI_SETS") or "").split())
    source = OaiSource(
        name=name, endpoint=endpoint, sets=sets,
        metadata_prefix=settings.get("HARVESTER_OAI_METADATA_PREFIX") or "oai_dc",
        windows=setting_int(settings, "HARVESTER_OAI_WINDOWS"),
        window_records=setting_int(settings, "HARVESTER_OAI_WINDOW_RECORDS"),
        max_pages=setting_int(settings, "HARVESTER_OAI_MAX_PAGES"),
        reconcile=settings.get("HARVESTER_OAI_RECONCILE") or "auto",
        file_hosts=tuple(str(settings.get("HARVESTER_OAI_FILE_HOSTS") or "").lower().split()))
    if source.reconcile not in ("auto", "always", "never"):
        raise ConfigError(f"HARVESTER_OAI_RECONCILE must be auto, always or never, got "
                          f"{source.reconcile!r}")
    return registry.add(cast(Source, source))  # frozen fields: read-only to mypy


# --- the source's description in the store (state/<name>/source.json) ---------------------
# A source built at run time is not installed where the store is read later (`harvester
# verify` validates its records against its own fields): the harvest leaves its description
# in the store, and readers of the store register it from there.

def _description_key(name: str) -> str:
    from harvester.keys import state_key

    return state_key(name, "source.json")


def remember(settings: Any, source: Any) -> None:
    """Leave the OAI-PMH source's description in the run's store (a failure is a warning:
    the harvest itself does not need it)."""
    import json
    import logging

    from harvester.exceptions import StoreError
    from pipelines.storage import open_store

    description = {"kind": "oai", "endpoint": source.endpoint, "sets": list(source.sets),
                   "metadata_prefix": source.metadata_prefix}
    if source.file_hosts:
        description["file_hosts"] = list(source.file_hosts)
    body = json.dumps(description, sort_keys=True).encode("utf-8")
    try:
        store = open_store(settings.get("HARVESTER_STORE") or "./harvest-data")
        key = _description_key(source.name)
        if store.get(key) != body:
            store.put(key, body, content_type="application/json")
    except (StoreError, OSError) as exc:
        logging.getLogger(__name__).warning("could not record the source's description in "
                                            "the store: %s", exc)


def register_stored(store: Any, name: str) -> None:
    """Register source `name` from its description in the store, unless it is known here."""
    import json

    from harvester import registry

    if name in registry.source_names():
        return
    data = store.get(_description_key(name))
    if data is None:
        return
    try:
        entry = json.loads(data)
    except ValueError:
        return
    if not isinstance(entry, dict) or entry.get("kind") != "oai":
        return
    from harvester.sites.oai import OaiSource

    registry.add(cast(Source, OaiSource(
        name=name, endpoint=str(entry.get("endpoint")), sets=tuple(entry.get("sets") or ()),
        metadata_prefix=str(entry.get("metadata_prefix") or "oai_dc"),
        file_hosts=tuple(entry.get("file_hosts") or ()))))
