"""`harvester harvest SITE`: one harvest run (see the README for modes and exit statuses)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from harvester.exceptions import ConfigError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("harvest", help="harvest an archive into the store",
                       description="Harvest an archive (a registered source, such as wilson, "
                                   "or an OAI-PMH repository) into a local directory or S3.")
    p.add_argument("site", help="the source to harvest: a name of the harvester.sources "
                   "registry (wilson, ...), of the sources file, or oai with --endpoint/--name")
    p.add_argument("--mode", choices=["auto", "incremental", "backfill"], default=None,
                   help="incremental (default once the store holds records) or backfill")
    p.add_argument("--store", default=None, help="store URI: a path (default ./harvest-data) "
                   "or s3://bucket/prefix")
    p.add_argument("--base-url", default=None, help="crawl a mirror or the sample archive")
    p.add_argument("--limit", type=int, default=None, help="stop after N documents")
    p.add_argument("--redis", default=None, metavar="URL",
                   help="share the crawl frontier in Redis (redis://HOST:PORT/DB)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (with --redis)")
    p.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="override a Scrapy setting (repeatable)")
    oai = p.add_argument_group("OAI-PMH (harvester harvest oai --endpoint URL --name NAME)")
    oai.add_argument("--endpoint", default=None, help="the repository's OAI-PMH base URL")
    oai.add_argument("--name", default=None, help="the store's key for the repository")
    oai.add_argument("--set", dest="sets", action="append", default=[], metavar="SPEC",
                     help="harvest only this set (repeatable; a:b is within a)")
    oai.add_argument("--metadata-prefix", default=None, help="metadata format (default oai_dc)")
    oai.add_argument("--file-host", dest="file_hosts", action="append", default=[],
                     metavar="HOST", help="also download file links on this host (repeatable; "
                     "* = any host; default: the endpoint's host only)")
    p.add_argument("--sources", default=None, metavar="FILE",
                   help="sources file (TOML; default ./harvester.toml when present)")
    p.set_defaults(run=run)


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"-s expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


def build_settings(args: argparse.Namespace) -> Any:
    from scrapy.settings import Settings

    from harvester import settings as defaults
    from harvester.config import settings_from_env, user_agent

    settings = Settings()
    settings.setmodule(defaults, priority="project")
    settings.setdict(settings_from_env(), priority="project")
    cli = {"HARVESTER_STORE": args.store, "HARVESTER_MODE": args.mode,
           "HARVESTER_BASE_URL": args.base_url, "HARVESTER_LIMIT": args.limit,
           "HARVESTER_REDIS_URL": args.redis, "HARVESTER_WORKERS": args.workers}
    settings.setdict({k: v for k, v in cli.items() if v is not None}, priority="cmdline")
    overrides = parse_overrides(args.settings)
    if not sys.stderr.isatty() or str(settings.get("HARVESTER_PROGRESS")).lower() == "off":
        pass
    elif "LOG_LEVEL" not in overrides and "LOG_LEVEL" not in settings_from_env():
        settings.set("LOG_LEVEL", "WARNING", priority="cmdline")  # the progress line speaks
    settings.setdict(overrides, priority="cmdline")
    if settings.get("USER_AGENT") in (None, "", user_agent(defaults.HARVESTER_CONTACT_URL)):
        settings.set("USER_AGENT", user_agent(settings.get("HARVESTER_CONTACT_URL")),
                     priority="cmdline")
    return settings


def run(args: argparse.Namespace) -> int:
    from harvester.runner import run_harvest

    settings = build_settings(args)
    return run_harvest(resolve_source(args, settings), settings)


NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def resolve_source(args: argparse.Namespace, settings: Any) -> str:
    """The site to harvest: `oai` with --endpoint/--name, a source of the sources file, a
    worker's source given by HARVESTER_OAI_* settings, or a registered source."""
    from scrapy.settings import SETTINGS_PRIORITIES

    from harvester import sourcesfile

    site = args.site
    if site == "oai":
        if not getattr(args, "endpoint", None) or not getattr(args, "name", None):
            raise ConfigError("harvest oai needs --endpoint URL and --name NAME")
        site = args.name
        described = sourcesfile.oai_settings(args.endpoint, args.sets, args.metadata_prefix,
                                             getattr(args, "file_hosts", None) or [])
        settings.setdict(described, priority="cmdline")
    elif not settings.get("HARVESTER_OAI_ENDPOINT"):
        entry = sourcesfile.load(getattr(args, "sources", None)).get(site)
        if entry is None:
            return site
        described = sourcesfile.oai_settings(entry["endpoint"], list(entry.get("sets") or []),
                                             entry.get("metadata_prefix"),
                                             list(entry.get("file_hosts") or []))
        given = set(parse_overrides(args.settings))
        own = {k: v for k, v in sourcesfile.entry_settings(entry).items() if k not in given}
        settings.setdict({**own, **described}, priority="cmdline")
    if not NAME.match(site):
        raise ConfigError(f"--name must be lowercase letters, digits, - or _ (at most 32, a "
                          f"letter first), got {site!r}")
    sourcesfile.remember(settings, sourcesfile.build_oai(site, settings))
    kinds = list(settings.getlist("HARVESTER_WARC_KINDS"))
    if "listing" not in kinds and (settings.getpriority("HARVESTER_WARC_KINDS") or 0) \
            < SETTINGS_PRIORITIES["cmdline"]:
        # an OAI-PMH listing is the records themselves: its responses are captured too
        # (above the project's default, below -s; workers resolve the source the same way)
        settings.set("HARVESTER_WARC_KINDS", [*kinds, "listing"],
                     priority=SETTINGS_PRIORITIES["spider"])
    return str(site)
