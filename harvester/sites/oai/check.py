"""`harvester check NAME` for an OAI-PMH source (from a sources file, or `harvester check oai
--endpoint URL`): Identify, ListMetadataFormats, ListSets (first page) and one page of
ListRecords in the metadataPrefix (and first set) asked for, then one date window as a
backfill's first asks for it (`until` earliestDatestamp, no `from`), one polite request at
a time (the check's urllib client: User-Agent, robots.txt read first and obeyed as the
harvest obeys it, its Crawl-delay or DOWNLOAD_DELAY, redirects followed, a 429/503 asked
again after its Retry-After). Exit 0 when Identify and the list page can be read
(noRecordsMatch counts as read), 1 when not, with the reason (robots.txt disallowing the
endpoint among them); a window refused, or answered with records after its `until`, is a
warning ("warn": a backfill then reads the repository without windows)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import urlsplit

from harvester.record import finalize
from harvester.sites.oai import dates
from harvester.sites.oai.mapping import oai_url
from harvester.sites.oai.response import read
from harvester.sites.oai.source import OAI_ERROR_STATUSES, OaiSource

OK, FAILED = 0, 1


def oai_check(args: argparse.Namespace) -> int | None:
    """Run the check when args name an OAI-PMH source; None when they name another kind."""
    from harvester import sourcesfile
    from harvester.commands.check import CheckFailed, CheckOptions, Fetcher
    from harvester.commands.harvest import build_settings, resolve_source

    harvest_args = argparse.Namespace(
        store=None, mode=None, base_url=None, limit=None, redis=None, workers=None,
        settings=args.settings, site=args.site, endpoint=getattr(args, "endpoint", None),
        name=getattr(args, "name", None) or (args.site if args.site != "oai" else "oai-check"),
        sets=getattr(args, "sets", []) or [], metadata_prefix=None,
        sources=getattr(args, "sources", None))
    if args.site != "oai" and args.site not in sourcesfile.load(harvest_args.sources):
        return None
    settings = build_settings(harvest_args)
    from harvester.registry import get_source

    source = get_source(resolve_source(harvest_args, settings))
    assert isinstance(source, OaiSource)
    options = CheckOptions.from_settings(settings)
    fetcher = Fetcher(options, (urlsplit(source.endpoint).hostname or "").lower(),
                      delay=options.download_delay, max_requests=16, follow_hosts=True)
    result: dict[str, Any] = {"site": source.name, "endpoint": source.endpoint, "steps": []}
    try:
        _robots(source, fetcher, options, result)
        _run(source, fetcher, result)
        result.update(status=OK, reason=None)
    except CheckFailed as exc:
        result.update(status=FAILED, reason=exc.reason)
    if getattr(args, "json", False):
        print(json.dumps(result, ensure_ascii=False), flush=True)
    else:
        for step in result["steps"]:
            print(f"{step['verb']:<20} {step['status']:<4} {step['summary']}")
        print(f"{'result':<20} {'ok' if result['status'] == OK else 'FAIL'}")
    if result["status"] != OK:
        print(f"harvester check: {result['reason']}", file=sys.stderr)
    return int(result["status"])


def _robots(source: OaiSource, fetcher: Any, options: Any, result: dict[str, Any]) -> None:
    """robots.txt of the endpoint's host, as the harvest reads it (ROBOTSTXT_OBEY): the
    check's requests obey it, and wait its Crawl-delay when that is longer than
    DOWNLOAD_DELAY (capped by HARVESTER_CRAWL_DELAY_MAX). One that cannot be fetched
    allows everything, as for the harvest (Scrapy's robots.txt middleware)."""
    from harvester.commands.check import CheckFailed, Robots

    parts = urlsplit(source.endpoint)
    url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    robots: dict[str, Any] = {"url": url, "obeyed": options.obey_robots}
    result["robots"] = robots
    if not options.obey_robots:
        result["steps"].append({"verb": "robots.txt", "status": "ok",
                                "summary": "not read (ROBOTSTXT_OBEY is off)"})
        return
    try:
        answer = fetcher.get(url, "robots.txt")
    except CheckFailed as exc:
        robots.update(found=False, error=exc.reason)
        result["steps"].append({"verb": "robots.txt", "status": "ok",
                                "summary": f"could not be fetched, everything allowed "
                                           f"({exc.reason})"})
        return
    rules = Robots(options, answer.body if answer.status == 200 else None)
    robots.update(status=answer.status, found=answer.status == 200)
    crawl_delay = robots["crawl_delay"] = rules.obeyed_by(fetcher, options)
    listing = oai_url(source.endpoint, {"verb": "ListRecords",
                                        "metadataPrefix": source.metadata_prefix})
    allowed = rules.allowed(oai_url(source.endpoint, {"verb": "Identify"})) \
        and rules.allowed(listing)
    robots["endpoint_allowed"] = allowed
    if not allowed:
        result["steps"].append({"verb": "robots.txt", "status": "FAIL",
                                "summary": "disallows the endpoint"})
        raise CheckFailed(FAILED, f"robots.txt disallows the endpoint for "
                                  f"{rules.user_agent!r} (the harvest obeys it; "
                                  f"ROBOTSTXT_OBEY): {url}")
    result["steps"].append({"verb": "robots.txt", "status": "ok", "summary": (
        ("found" if robots["found"] else f"none (HTTP {answer.status})")
        + "; endpoint allowed" + (f"; Crawl-delay {crawl_delay:g} s" if crawl_delay else ""))})


def _get(source: OaiSource, fetcher: Any, params: dict[str, str]) -> Any:
    from harvester.commands.check import CheckFailed

    url = oai_url(source.endpoint, params)
    answer = fetcher.get(url, params["verb"])
    try:
        page = read(answer.body)
    except ValueError as exc:
        if answer.status != 200:
            raise CheckFailed(FAILED, f"{params['verb']} answered HTTP {answer.status}: "
                                      f"{url}") from None
        raise CheckFailed(FAILED, f"{params['verb']} is not an OAI-PMH response ({exc}): "
                                  f"{url}") from None
    if answer.status != 200 and (answer.status not in OAI_ERROR_STATUSES
                                 or not page.error_code):
        # an OAI-PMH error sent with another status than 200 (some servers do) is read as
        # the error it is; anything else but a 200 is a failed request
        raise CheckFailed(FAILED, f"{params['verb']} answered HTTP {answer.status}: {url}")
    return page


def _run(source: OaiSource, fetcher: Any, result: dict[str, Any]) -> None:
    from harvester.commands.check import CheckFailed

    steps = result["steps"]
    identify = _get(source, fetcher, {"verb": "Identify"})
    if identify.error_code or not identify.identify:
        raise CheckFailed(FAILED, f"Identify failed: {identify.error_code or 'no Identify'}")
    info = identify.identify
    result["identify"] = info
    steps.append({"verb": "Identify", "status": "ok", "summary": (
        f"{info.get('repository_name')}; granularity {info.get('granularity')}; earliest "
        f"{info.get('earliest')}; deletedRecord {info.get('deleted_record')}")})
    formats = _get(source, fetcher, {"verb": "ListMetadataFormats"})
    root_prefixes = formats.prefixes
    result["formats"] = root_prefixes
    steps.append({"verb": "ListMetadataFormats", "status": "ok",
                  "summary": ", ".join(root_prefixes) or formats.error_code or "none"})
    if root_prefixes and source.metadata_prefix not in root_prefixes:
        raise CheckFailed(FAILED, f"the repository does not offer {source.metadata_prefix} "
                                  f"(it offers {', '.join(root_prefixes)})")
    sets = _get(source, fetcher, {"verb": "ListSets"})
    specs = sets.set_specs
    result["sets"] = specs
    steps.append({"verb": "ListSets", "status": "ok", "summary": (
        f"{len(specs)} sets on the first page" + (f" ({', '.join(specs[:5])}...)" if specs
                                                  else f" ({sets.error_code})"))})
    params = {"verb": "ListRecords", "metadataPrefix": source.metadata_prefix}
    if source.sets:
        params["set"] = source.sets[0]
    page = _get(source, fetcher, params)
    if page.error_code == "noRecordsMatch":
        steps.append({"verb": "ListRecords", "status": "ok", "summary": "noRecordsMatch"})
        return
    if page.error_code:
        raise CheckFailed(FAILED, f"ListRecords failed: {page.error_code} {page.error_text}")
    step = source._list_step(page, {})
    first = None
    if step.records:
        fields = dict(step.records[0])
        fields.pop("_raw", None)
        first = finalize(fields, site=source.name, harvested_at="2000-01-01T00:00:00Z")
    result["records"] = {"on_page": len(step.records), "deleted": len(step.withdrawn),
                         "unreadable": len(step.problems), "token": bool(page.token),
                         "complete_list_size": page.complete_size,
                         "first": first}
    steps.append({"verb": "ListRecords", "status": "ok", "summary": (
        f"{len(step.records)} records, {len(step.withdrawn)} deleted, {len(step.problems)} "
        f"unreadable; more: {'yes' if page.token else 'no'}"
        + (f"; first: {first['record_id']} {first['title']!r}" if first else ""))})

    _window_probe(source, fetcher, info, steps)


def _window_probe(source: OaiSource, fetcher: Any, info: dict[str, Any],
                  steps: list[dict[str, Any]]) -> None:
    """A backfill's first date window (`until` the earliestDatestamp, no `from`): refused,
    or answered with records datestamped after it, is a warning, not a failure (the
    harvest then reads the repository as one list)."""
    granularity = dates.granularity_of(info.get("granularity")) or dates.DAY
    earliest = dates.parse(info.get("earliest"))
    if earliest is None:
        return
    until = dates.fmt(dates.floor(earliest, granularity), granularity)
    params = {"verb": "ListRecords", "metadataPrefix": source.metadata_prefix, "until": until}
    if source.sets:
        params["set"] = source.sets[0]
    page = _get(source, fetcher, params)
    status, summary = "ok", f"until {until}: "
    if page.error_code == "noRecordsMatch":
        summary += "noRecordsMatch"
    elif page.error_code:
        status = "warn"
        summary += (f"{page.error_code} {page.error_text or ''}".strip()
                    + "; a backfill reads the repository as one list, without date windows")
    else:
        step = source._list_step(page, {})
        summary += f"{step.count} records"
        if source._beyond_window({"until": until, "g": granularity}, step):
            status = "warn"
            summary += (f", up to {step.last_stamp}: datestamped after it; a backfill reads "
                        "the repository as one list, without date windows")
    steps.append({"verb": "ListRecords", "status": status, "summary": summary})
