"""`harvester check SITE`: a preflight of one archive in at most four polite requests.

It reads robots.txt (what it allows, its Crawl-delay), the first listing page (document links
found, total, next page) and the first document on it (every record field), and says whether
a harvest can read the archive. Exit statuses (README "harvester check"):

    0  the listing and the document can be read
    1  a page could not be fetched or read (network error, HTTP error, robots.txt forbids it,
       a redirect to another host, not a document, the record does not validate)
    2  bad arguments or settings (cli.py)
    5  the site answered with a bot-challenge page (as `harvester harvest` exit 5)
    6  the listing page holds no document links (as `harvester harvest` exit 6)

The HTTP client is urllib, one request at a time: the project's User-Agent, the harvest's
robots.txt parser (ROBOTSTXT_PARSER, Scrapy's Protego by default, so the verdict is the one a
harvest would get), the larger of Crawl-delay and DOWNLOAD_DELAY between requests, same-host
redirects only, DOWNLOAD_TIMEOUT, gzip accepted, no retries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import shutil
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, ClassVar, TextIO
from urllib.parse import urljoin, urlsplit

from harvester.config import setting_float, setting_int
from harvester.exceptions import ConfigError, HarvesterError, InvalidRecord
from harvester.listingwalk import next_step
from harvester.record import finalize
from harvester.sites import Site, get_site
from harvester.source import WalkStart, step_next

MAX_REQUESTS = 4  # robots.txt, listing, document and one redirect
CUT = 100  # long values are cut to this many characters, their length shown

OK, FAILED, CHALLENGED, NO_LINKS = 0, 1, 5, 6


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "check", help="preflight of one archive: robots.txt, a listing page and one document",
        description="Fetch robots.txt, the first listing page and its first document (at most "
        f"{MAX_REQUESTS} polite requests) and print what a harvest would read. Exit 0 when the "
        "listing and the document can be read; non-zero with a one-line reason when not.")
    p.add_argument("site", help="archive to check (wilson)")
    p.add_argument("--base-url", default=None, help="check a mirror or the sample archive")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="override a Scrapy setting (repeatable)")
    p.add_argument("--sources", default=None, metavar="FILE",
                   help="sources file (TOML; default ./harvester.toml when present)")
    p.add_argument("--endpoint", default=None, help="check oai: the repository's base URL")
    p.set_defaults(run=run)


class CheckFailed(Exception):
    """The check cannot go on: an exit status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


# --- options -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckOptions:
    """What the check reads from the settings (harvester/settings.py and -s)."""

    user_agent: str
    robots_user_agent: str | None = None  # ROBOTSTXT_USER_AGENT
    obey_robots: bool = True  # ROBOTSTXT_OBEY
    robots_parser: str = "scrapy.robotstxt.ProtegoRobotParser"  # ROBOTSTXT_PARSER
    download_delay: float = 1.0  # DOWNLOAD_DELAY
    crawl_delay_max: float = 60.0  # HARVESTER_CRAWL_DELAY_MAX
    timeout: float = 60.0  # DOWNLOAD_TIMEOUT
    max_bytes: int = 8 * 1024 * 1024  # HARVESTER_HTML_MAXSIZE
    retry_after_max: float = 120.0  # HARVESTER_BACKOFF_MAX: the longest Retry-After waited

    @classmethod
    def from_settings(cls, settings: Any) -> CheckOptions:
        return cls(
            user_agent=settings.get("USER_AGENT"),
            robots_user_agent=settings.get("ROBOTSTXT_USER_AGENT") or None,
            obey_robots=settings.getbool("ROBOTSTXT_OBEY", True),
            robots_parser=settings.get("ROBOTSTXT_PARSER") or cls.robots_parser,
            download_delay=max(settings.getfloat("DOWNLOAD_DELAY", 1.0), 0.0),
            crawl_delay_max=setting_float(settings, "HARVESTER_CRAWL_DELAY_MAX"),
            timeout=settings.getfloat("DOWNLOAD_TIMEOUT", 60.0),
            max_bytes=setting_int(settings, "HARVESTER_HTML_MAXSIZE"),
            retry_after_max=setting_float(settings, "HARVESTER_BACKOFF_MAX"),
        )


# --- the polite HTTP client -----------------------------------------------------------------
@dataclass
class Fetched:
    url: str  # the final URL, after redirects
    status: int
    headers: Message
    body: bytes

    @property
    def charset(self) -> str | None:
        return self.headers.get_content_charset()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx comes back as a response; Fetcher follows it itself


@dataclass
class Fetcher:
    """One request at a time to one host: waits `delay` after the previous response, asks
    `permit(url)` before each request (robots.txt), follows same-host redirects, asks again
    (RETRIES times at most) after a 429 or 503 whose Retry-After it waits for (at most
    `options.retry_after_max`), as the harvest does, and stops at `max_requests` (retries
    apart). `sleep` and `clock` are seams for tests."""

    options: CheckOptions
    host: str
    delay: float = 0.0
    max_requests: int = MAX_REQUESTS
    permit: Callable[[str], str | None] = lambda url: None  # a refusal reason, or None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    log: list[dict[str, Any]] = field(default_factory=list)  # {"what", "url", "status"}
    # a redirect to another host is followed, and that host is the check's from then on
    # (an OAI-PMH endpoint that moved, as its harvest follows it); refused otherwise
    follow_hosts: bool = False
    _last: float | None = None
    _retries: int = 0  # requests made again after a Retry-After (not counted in max_requests)
    _opener: Any = field(default_factory=lambda: urllib.request.build_opener(_NoRedirect))

    RETRIES: ClassVar[int] = 2  # a request asked again after a 429/503 with Retry-After

    def get(self, url: str, what: str) -> Fetched:
        for _ in range(self.max_requests):
            refusal = self.permit(url)
            if refusal:
                raise CheckFailed(FAILED, f"{refusal}: {url}")
            if len(self.log) - self._retries >= self.max_requests:
                raise CheckFailed(FAILED, f"stopped at {url}: a check makes at most "
                                          f"{self.max_requests} requests (redirects count)")
            fetched = self._request(url, what)
            for _ in range(self.RETRIES):
                wait = self._retry_after(fetched)
                if wait is None:
                    break
                self.sleep(wait)
                self._retries += 1
                fetched = self._request(url, what)
            location = fetched.headers.get("Location") if 300 <= fetched.status < 400 else None
            if not location:
                return fetched
            target = urljoin(url, location)
            host = (urlsplit(target).hostname or "").lower()
            if host != self.host:
                if not self.follow_hosts:
                    raise CheckFailed(FAILED, f"redirect to another host refused: {url} -> "
                                              f"{target}")
                self.host = host
            url = target
        raise CheckFailed(FAILED, f"too many redirects: {url}")

    def _retry_after(self, fetched: Fetched) -> float | None:
        """Seconds to wait before asking again: a 429 or 503 with a Retry-After (seconds or
        an HTTP date) no longer than `options.retry_after_max`; None: not asked again."""
        if fetched.status not in (429, 503):
            return None
        from harvester.middlewares.retry_after import retry_after_seconds

        wait = retry_after_seconds(fetched.headers.get("Retry-After"))
        if wait is None or wait > self.options.retry_after_max:
            return None
        return wait

    def _request(self, url: str, what: str) -> Fetched:
        if self._last is not None:
            wait = self._last + self.delay - self.clock()
            if wait > 0:
                self.sleep(wait)
        headers = {"User-Agent": self.options.user_agent, "Accept-Encoding": "gzip, deflate",
                   "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.8"}
        entry: dict[str, Any] = {"what": what, "url": url, "status": None}
        self.log.append(entry)
        try:
            try:
                response = self._opener.open(urllib.request.Request(url, headers=headers),
                                             timeout=self.options.timeout)
            except urllib.error.HTTPError as exc:
                response = exc  # an HTTP error status is an answer, read like any other
            with response:
                status = int(response.status)
                raw = response.read(self.options.max_bytes + 1)
                message: Message = response.headers
        except urllib.error.URLError as exc:
            raise CheckFailed(FAILED, f"cannot fetch the {what} {url}: {exc.reason}") from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets,
            # truncated bodies, bad status lines
            reason = str(exc) or type(exc).__name__
            raise CheckFailed(FAILED, f"cannot fetch the {what} {url}: {reason}") from None
        finally:
            self._last = self.clock()
        entry["status"] = status
        body = self._decode(raw, message.get("Content-Encoding", ""), url)
        return Fetched(url, status, message, body)

    def _decode(self, raw: bytes, encoding: str, url: str) -> bytes:
        limit = self.options.max_bytes
        if len(raw) > limit:
            raise CheckFailed(FAILED, f"response larger than {limit} bytes "
                                      f"(HARVESTER_HTML_MAXSIZE): {url}")
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            return raw
        if encoding not in ("gzip", "x-gzip", "deflate"):
            raise CheckFailed(FAILED, f"unsupported Content-Encoding {encoding!r}: {url}")
        wbits = (16 + zlib.MAX_WBITS) if "gzip" in encoding else zlib.MAX_WBITS
        try:
            try:
                body = zlib.decompressobj(wbits).decompress(raw, limit + 1)
            except zlib.error:
                if encoding != "deflate":
                    raise
                body = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, limit + 1)  # raw deflate
        except zlib.error as exc:
            raise CheckFailed(FAILED, f"cannot decode the {encoding} body of {url}: {exc}") from None
        if len(body) > limit:
            raise CheckFailed(FAILED, f"decoded response larger than {limit} bytes: {url}")
        return body


# --- the check ------------------------------------------------------------------------------
class Robots:
    """robots.txt through the harvest's parser; None rules mean everything is allowed."""

    def __init__(self, options: CheckOptions, body: bytes | None) -> None:
        from scrapy.utils.misc import load_object

        self.user_agent = options.robots_user_agent or options.user_agent
        self.parser = None if body is None else load_object(options.robots_parser).from_crawler(
            None, body)

    def allowed(self, url: str) -> bool:
        return self.parser is None or bool(self.parser.allowed(url, self.user_agent))

    def crawl_delay(self) -> float | None:
        getter = getattr(self.parser, "crawl_delay", None)
        delay = getter(self.user_agent) if getter else None
        return float(delay) if delay else None

    def refusal(self, url: str) -> str | None:
        return None if self.allowed(url) else "robots.txt disallows"

    def obeyed_by(self, fetcher: Fetcher, options: CheckOptions) -> float | None:
        """Make `fetcher` obey these rules and wait the larger of their Crawl-delay (capped
        by HARVESTER_CRAWL_DELAY_MAX) and DOWNLOAD_DELAY; the Crawl-delay."""
        fetcher.permit = self.refusal
        crawl_delay = self.crawl_delay()
        fetcher.delay = max(min(crawl_delay or 0.0, options.crawl_delay_max),
                            options.download_delay)
        return crawl_delay


def check_site(site: Site, base_url: str, options: CheckOptions, result: dict[str, Any],
               fetcher: Fetcher | None = None) -> None:
    """Fill `result` step by step (robots, listing, document); raise CheckFailed to stop."""
    fetcher = fetcher or Fetcher(options, host=(urlsplit(base_url).hostname or "").lower())
    result["requests"] = fetcher.log
    listing_url = site.listing_request(base_url, site.start(WalkStart("backfill")),
                                       site.listing_page_size).url
    rules = _check_robots(site, base_url, listing_url, options, fetcher, result)
    document_url = _check_listing(site, base_url, listing_url, fetcher, result)
    result["robots"]["document_allowed"] = rules.allowed(document_url)
    _check_document(site, document_url, fetcher, result)


def _check_robots(site: Site, base_url: str, listing_url: str, options: CheckOptions,
                  fetcher: Fetcher, result: dict[str, Any]) -> Robots:
    """Read robots.txt (unless ROBOTSTXT_OBEY is off), make the fetcher obey it and wait the
    larger of its Crawl-delay and DOWNLOAD_DELAY."""
    robots = result["robots"] = {"url": f"{base_url}/robots.txt", "obeyed": options.obey_robots}
    rules = Robots(options, None)
    if options.obey_robots:
        answer = fetcher.get(robots["url"], "robots.txt")
        robots["status"] = answer.status
        _refuse_challenge(site, answer, "robots.txt")
        rules = Robots(options, answer.body if answer.status == 200 else None)
        robots["found"] = answer.status == 200
    robots["listing_allowed"] = rules.allowed(listing_url)
    robots["crawl_delay"] = rules.obeyed_by(fetcher, options)
    robots["wait"] = fetcher.delay
    return rules


def _check_listing(site: Site, base_url: str, listing_url: str, fetcher: Fetcher,
                   result: dict[str, Any]) -> str:
    """Read the first listing page; the URL of its first document. The next page is the
    one the harvest's walk would fetch (harvester.listingwalk), not the pager's link."""
    listing = result["listing"] = {"url": listing_url}
    answer = fetcher.get(listing_url, "listing")
    listing.update(final_url=answer.url, status=answer.status)
    _refuse_challenge(site, answer, "listing page")
    if answer.status != 200:
        raise CheckFailed(FAILED, f"the listing page answered HTTP {answer.status}: {answer.url}")
    try:
        parsed = site.parse_listing(answer.body, answer.url)
    except Exception as exc:  # noqa: BLE001 - an extractor bug is reported, not a traceback
        raise CheckFailed(FAILED, f"the listing parser failed: {type(exc).__name__}: {exc}: "
                          f"{answer.url}") from None
    first = site.start(WalkStart("backfill"))
    following = step_next(parsed)
    step = next_step(first, parsed, site.listing_page_size, first=True,
                     following=following if following is not None
                     else site.next_cursor(first, parsed))
    next_page = (site.listing_request(base_url, step.next_page, site.listing_page_size).url
                 if step.next_page is not None else None)
    listing.update(links_found=len(parsed.document_urls), page_size=site.listing_page_size,
                   total=parsed.total, next_page=next_page)
    if step.problem:
        said = f" (it says {parsed.total} results)" if parsed.total is not None else ""
        raise CheckFailed(NO_LINKS, f"{step.problem}{said}: the listing could not be read or "
                          f"its markup changed: {answer.url}")
    return str(parsed.document_urls[0])


def _check_document(site: Site, url: str, fetcher: Fetcher, result: dict[str, Any]) -> None:
    """Read the document page and make its full record."""
    document = result["document"] = {"url": url}
    answer = fetcher.get(url, "document")
    document.update(final_url=answer.url, status=answer.status)
    _refuse_challenge(site, answer, "document page")
    if answer.status != 200:
        raise CheckFailed(FAILED, f"the document page answered HTTP {answer.status}: {answer.url}")
    try:
        fields = site.parse_document(answer.body, answer.url, encoding=answer.charset)
    except HarvesterError as exc:  # not a document, or a field that cannot be used
        raise CheckFailed(FAILED, f"the document page could not be read: {exc}: {answer.url}"
                          ) from None
    except Exception as exc:  # noqa: BLE001 - an extractor bug is reported, not a traceback
        raise CheckFailed(FAILED, f"the extractor failed on the document page: "
                          f"{type(exc).__name__}: {exc}: {answer.url}") from None
    try:
        document["record"] = finalize(fields, site=site.name, harvested_at=_utc_now())
    except InvalidRecord as exc:
        document["record"] = {"site": site.name, **fields}
        raise CheckFailed(FAILED, f"the document's record does not validate: {exc}: {answer.url}"
                          ) from None


def _refuse_challenge(site: Site, answer: Fetched, what: str) -> None:
    if answer.status == 200 and site.is_challenge(answer.body):
        raise CheckFailed(CHALLENGED, f"the {what} is a bot-challenge page (the site is "
                          f"challenging this client; a harvest would pause): {answer.url}")


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- output ---------------------------------------------------------------------------------
def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(section, key, value) rows of the result, values on one line and cut to CUT chars."""
    out: list[tuple[str, str, str]] = []
    robots = result.get("robots")
    if robots is not None:
        if not robots["obeyed"]:
            out.append(("robots", "fetched", f"{robots['url']} (not read: ROBOTSTXT_OBEY is off)"))
        elif "status" in robots:
            rules = "" if robots.get("found") else ": no rules, everything allowed"
            out.append(("robots", "fetched", f"{robots['url']} (HTTP {robots['status']}{rules})"))
        else:
            out.append(("robots", "fetched", f"{robots['url']} (not read)"))
        for key in ("listing_allowed", "document_allowed"):
            if key in robots:
                out.append(("robots", key, "yes" if robots[key] else "NO"))
        if "wait" in robots:
            delay = robots["crawl_delay"]
            out.append(("robots", "crawl_delay", f"{delay:g} s" if delay else "none"))
            out.append(("robots", "wait", f"{robots['wait']:g} s between requests (the larger "
                                          "of Crawl-delay and DOWNLOAD_DELAY)"))
    listing = result.get("listing")
    if listing is not None:
        out.append(("listing", "fetched", _with_status(listing)))
        if "links_found" in listing:
            out.append(("listing", "links_found",
                        f"{listing['links_found']} (a page asks for {listing['page_size']})"))
            total = listing["total"]
            out.append(("listing", "total", "unknown" if total is None else f"{total:,}"))
            out.append(("listing", "next_page", listing["next_page"] or "none (last page)"))
    document = result.get("document")
    if document is not None:
        out.append(("document", "fetched", _with_status(document)))
        for name, value in (document.get("record") or {}).items():
            out.extend(("document", key, text) for key, text in field_rows(name, value))
    requests = result.get("requests") or []
    made = ", ".join(f"{r['what']} {r['status'] or 'failed'}" for r in requests)
    out.append(("", "requests", f"{len(requests)} of at most {MAX_REQUESTS}: {made or 'none'}"))
    status, reason = result["status"], result.get("reason")
    verdict = "ok: the listing and the document can be read" if status == OK else \
        f"FAILED (exit {status}): {reason}"
    out.append(("", "result", _cut(verdict, 4 * CUT)))
    return out


def _with_status(step: dict[str, Any]) -> str:
    url = step["url"]
    final = step.get("final_url")
    moved = f" -> {final}" if final and final != url else ""
    status = f" (HTTP {step['status']})" if "status" in step else ""
    return f"{url}{moved}{status}"


def field_rows(name: str, value: Any) -> list[tuple[str, str]]:
    """Display rows of one record field: texts and files one row per entry, lists joined."""
    if value is None or value == [] or value == "":
        return [(name, "(none)")]
    if name == "texts" and isinstance(value, list):
        return [(f"texts[{i}]", _text_entry(entry)) for i, entry in enumerate(value)]
    if name == "files" and isinstance(value, list):
        return [(f"files[{i}]", _file_entry(entry)) for i, entry in enumerate(value)]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        joined = "; ".join(value)
        more = f", {len(value)} items" if len(_one_line(joined)) > CUT else ""
        return [(name, _cut(joined, extra=more))]
    if isinstance(value, str):
        return [(name, _cut(value))]
    return [(name, _cut(json.dumps(value, ensure_ascii=False)))]


def _text_entry(entry: Any) -> str:
    if not isinstance(entry, dict):
        return _cut(json.dumps(entry, ensure_ascii=False))
    text = str(entry.get("text") or "")
    head = f"{entry.get('kind')} ({entry.get('language') or 'language unknown'}), " \
        f"{len(text):,} chars: "
    line, room = _one_line(text), max(CUT - len(head), 20)
    return head + (line if len(line) <= room else line[:room].rstrip() + "…")


def _file_entry(entry: Any) -> str:
    if not isinstance(entry, dict):
        return _cut(json.dumps(entry, ensure_ascii=False))
    extra = [str(entry[k]) for k in ("content_type", "size", "key") if entry.get(k)]
    return str(entry.get("url")) + (f" ({', '.join(extra)})" if extra else " (not downloaded)")


def _one_line(text: str) -> str:
    return " ¶ ".join(line.strip() for line in text.splitlines() if line.strip())


def _cut(text: str, limit: int = CUT, extra: str = "") -> str:
    """`text` on one line; past `limit` chars cut with "…" and its length shown."""
    line = _one_line(text)
    if len(line) <= limit:
        return line
    return f"{line[:limit].rstrip()}… ({len(text):,} chars{extra})"


def render_plain(result: dict[str, Any], out: TextIO) -> None:
    """One `section.key: value` line per row (no padding: easy to grep)."""
    for section, key, value in rows(result):
        print(f"{section}.{key}: {value}" if section else f"{key}: {value}", file=out)


def render_table(result: dict[str, Any], out: TextIO) -> None:
    """An aligned table: a heading per section, keys padded, long values cut to the terminal
    width (URLs kept whole)."""
    table = rows(result)
    width = max(len(key) for _, key, _ in table) + 2
    room = max(shutil.get_terminal_size((120, 24)).columns - width - 3, 40)
    print(f"harvester check {result['site']}: {result['base_url']}", file=out)
    current = None
    for section, key, value in table:
        if section != current:
            current = section
            print(f"\n{section}" if section else "", file=out)
        if len(value) > room and key != "result" and not value.startswith(("http://", "https://")):
            value = _narrow(value, room)  # URLs and the verdict stay whole
        print(f"  {key:<{width}}{value}", file=out)


def _narrow(value: str, room: int) -> str:
    """`value` cut to `room` chars, keeping a "… (N chars)" ending made by _cut."""
    at = value.rfind("… (")
    ending = value[at:] if at >= 0 and value.endswith(")") else "…"
    return value[: max(room - len(ending), 10)].rstrip() + ending


def run(args: argparse.Namespace) -> int:
    from harvester.commands.harvest import build_settings
    from harvester.sites.oai.check import oai_check

    oai = oai_check(args)  # an OAI-PMH source (a sources file's, or `check oai --endpoint`)
    if oai is not None:
        return oai
    site = get_site(args.site)
    harvest_args = argparse.Namespace(store=None, mode=None, base_url=args.base_url, limit=None,
                                      redis=None, workers=None, settings=args.settings)
    settings = build_settings(harvest_args)
    base_url = (settings.get("HARVESTER_BASE_URL") or site.live_base_url).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--base-url must be an http(s) URL with a host, got {base_url!r}")
    result: dict[str, Any] = {"site": site.name, "base_url": base_url}
    try:
        check_site(site, base_url, CheckOptions.from_settings(settings), result)
        result.update(status=OK, reason=None)
    except CheckFailed as exc:
        result.update(status=exc.status, reason=exc.reason)
    terminal = sys.stdout.isatty()
    if hasattr(sys.stdout, "reconfigure"):  # UTF-8 into pipes; a terminal keeps its own
        if terminal:
            sys.stdout.reconfigure(errors="replace")
        else:
            sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    if args.json:
        print(json.dumps(result, ensure_ascii=False), flush=True)
    elif terminal:
        render_table(result, sys.stdout)
    else:
        render_plain(result, sys.stdout)
    sys.stdout.flush()
    if result["status"] != OK:
        print(f"harvester check: {result['reason']}", file=sys.stderr)
    return int(result["status"])
