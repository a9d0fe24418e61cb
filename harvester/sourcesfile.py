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


def oai_settings(endpoint: str, sets: list[str] | tuple[str, ...], prefix: str | None
                 ) -> dict[str, str]:
    """The command-line settings that describe an OAI-PMH source (passed on to workers)."""
    out = {"HARVESTER_OAI_ENDPOINT": endpoint, "HARVESTER_OAI_SETS": " ".join(sets)}
    if prefix:
        out["HARVESTER_OAI_METADATA_PREFIX"] = prefix
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
        windows=settings.getint("HARVESTER_OAI_WINDOWS", 16),
        window_records=settings.getint("HARVESTER_OAI_WINDOW_RECORDS", 20000),
        max_pages=settings.getint("HARVESTER_OAI_MAX_PAGES", 100000))
    return registry.add(cast(Source, source))  # frozen fields: read-only to mypy
