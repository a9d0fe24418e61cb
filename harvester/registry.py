"""The one registry of sources: every part of the harvester looks an archive up here.

Sources are registered by name in the Python entry point group `harvester.sources` (the
harvester's own, such as `wilson`, in its pyproject.toml; an archive of its own package in
that package's). An entry point names a Source object, or a callable that returns one.
Sources built at run time from a command line or a sources file (an OAI-PMH repository
given by its endpoint) are added with `add`. The spider (`spider_class`, and Scrapy's own
`scrapy crawl NAME` through `SourceSpiderLoader`), `harvester extract`, `harvester check`,
the exports and the Redis workers all call `get_source`.
"""

from __future__ import annotations

from typing import Any

from harvester.exceptions import ConfigError
from harvester.source import Source

GROUP = "harvester.sources"
# The harvester's own sources, also known when the package's metadata is not installed
# (a source tree on sys.path); its pyproject.toml registers the same in GROUP. Their names
# are found without scanning the installed packages' entry points (~35 ms of every
# `harvester extract` process): a package cannot register another source under them.
BUILTIN = {"wilson": "harvester.sites.wilson:SOURCE"}

_loaded: dict[str, Source] = {}
_added: dict[str, Source] = {}


def _registered() -> dict[str, str]:
    """name -> "module:attribute" of every registered source."""
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    found.update(BUILTIN)
    return found


def source_names() -> list[str]:
    return sorted(set(_registered()) | set(_added))


def add(source: Source) -> Source:
    """Register a source built at run time (it wins over an entry point of its name)."""
    _check(source, source.name)
    _added[source.name] = source
    return source


def get_source(name: str) -> Source:
    """The source registered as `name`; ConfigError for an unknown name."""
    if name in _added:
        return _added[name]
    if name in _loaded:
        return _loaded[name]
    registered = {name: BUILTIN[name]} if name in BUILTIN else _registered()
    if name not in registered:
        raise ConfigError(f"unknown site {name!r} (known sources: {', '.join(source_names())})")
    source = _load(name, registered[name])
    _loaded[name] = source
    return source


def _load(name: str, value: str) -> Source:
    import importlib

    module_name, _, attr = value.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split(".") if attr else []:
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"source {name!r} ({value}) cannot be loaded: {exc}") from exc
    if not isinstance(obj, Source) and callable(obj):
        obj = obj()
    _check(obj, name)
    return obj


def _check(obj: Any, name: str) -> None:
    if not isinstance(obj, Source):
        missing = [a for a in ("name", "live_base_url", "archive_name", "home_page",
                               "listing_page_size", "newest_first", "record_fields", "start",
                               "listing_request", "parse_listing", "next_cursor",
                               "parse_document", "is_challenge") if not hasattr(obj, a)]
        raise ConfigError(f"source {name!r} is not a Source (missing: {', '.join(missing)})")
    if obj.name != name:
        raise ConfigError(f"source registered as {name!r} calls itself {obj.name!r}")


# --- spiders -----------------------------------------------------------------------------
_spiders: dict[str, type] = {}


def spider_class(name: str) -> Any:
    """The spider that harvests source `name`: the engine's ArchiveSpider under its name."""
    source = get_source(name)
    cls = _spiders.get(name)
    if cls is None or getattr(cls, "source", None) is not source:
        from harvester.spiders.base import ArchiveSpider

        # a source may ask for Scrapy settings of its own (`spider_settings`, at Scrapy's
        # "spider" priority: the command line's -s still wins), e.g. more records in flight
        # per response for a listing that brings its records whole
        cls = type(f"{_camel(name)}Spider", (ArchiveSpider,),
                   {"name": name, "source": source, "__module__": __name__,
                    "custom_settings": dict(getattr(source, "spider_settings", None) or {}),
                    "__doc__": f"Harvests {source.archive_name} ({source.live_base_url})."})
        _spiders[name] = cls
    return cls


def __getattr__(name: str) -> Any:
    """`logger`, made on first use: importing logging is ~3 ms of every `harvester extract`
    process, which never logs through it."""
    if name == "logger":
        import logging

        value = logging.getLogger(__name__)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Source"


class SourceSpiderLoader:
    """Scrapy's SPIDER_LOADER_CLASS: `scrapy crawl NAME` and `scrapy list` see every
    registered source (Scrapy's ISpiderLoader: from_settings, load, list, find_by_request)."""

    def __init__(self, settings: Any = None) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: Any) -> SourceSpiderLoader:
        return cls(settings)

    def load(self, spider_name: str) -> Any:
        try:
            return spider_class(spider_name)
        except ConfigError as exc:
            raise KeyError(f"Spider not found: {spider_name} ({exc})") from exc

    def find_by_request(self, request: Any) -> list[str]:
        return [name for name in source_names()
                if spider_class(name).handles_request(request)]

    def list(self) -> Any:  # Scrapy's ISpiderLoader name (after the methods it would shadow)
        return source_names()
