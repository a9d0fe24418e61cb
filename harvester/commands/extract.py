"""`harvester extract`: run a site's extractor on saved pages or URLs, one JSON line each."""

from __future__ import annotations

import datetime as dt
import functools
import os
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harvester import jsontext
from harvester.exceptions import ConfigError, HarvesterError
from harvester.record import finalize
from harvester.sites import Site, get_site

if TYPE_CHECKING:
    import argparse
    from email.message import Message

FETCH_TIMEOUT = 60  # seconds per URL
MAX_FILE_BYTES = 64 * 1024 * 1024  # larger inputs are refused, not read
USER_AGENT = "archive-harvester extract (+https://github.com/archive-harvester)"
DEFAULT_SITE = "wilson"  # --site's default (also harvester.cli's plain-arguments path)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="extract records from saved pages or URLs (one JSON line per input)",
        description="Run the site's extractor on saved pages (or fetched URLs) and print one "
        'JSON record per input, in input order; an input that fails prints {"error", "input"} '
        "and the exit status is 1 at the end.",
    )
    parser.add_argument("--site", default=DEFAULT_SITE, help=f"archive key (default: {DEFAULT_SITE})")
    parser.add_argument("--url", help="the page's address, when a single saved file is given")
    parser.add_argument("inputs", nargs="+", metavar="FILE_OR_URL")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    site = get_site(args.site)
    if args.url and len(args.inputs) != 1:
        raise ConfigError("--url applies to a single saved file; give exactly one input")
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    failed = False
    jsontext.REUSE = True  # each line right after its record's hash: its texts escaped once
    for item in args.inputs:
        try:
            line: dict[str, Any] = extract_one(site, item, args.url)
        except HarvesterError as exc:
            line, failed = {"error": str(exc) or type(exc).__name__, "input": item}, True
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            line, failed = {"error": f"cannot read input: {reason}", "input": item}, True
        except Exception as exc:  # noqa: BLE001 - one bad input must not stop the others
            line, failed = {"error": f"unexpected {type(exc).__name__}: {exc}", "input": item}, True
        # json.dumps(line, ensure_ascii=False)'s text, the texts escaped once for the hash too
        print(jsontext.dumps(line), flush=True)
    return 1 if failed else 0


def extract_one(site: Site, item: str, given_url: str | None) -> dict[str, Any]:
    if item.startswith(("http://", "https://")):
        body, url, encoding = fetch(item)
        fields = site.parse_document(body, url, encoding=encoding)
    else:
        info = os.stat(item)  # one stat for both tests (as Path.is_dir() and Path.stat() did)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "is a directory")
        if info.st_size > MAX_FILE_BYTES:
            raise HarvesterError(f"input larger than {MAX_FILE_BYTES} bytes")
        with open(item, "rb") as f:
            body = f.read()
        url = given_url or file_uri(item)
        fields = site.parse_document(body, url, prefer_canonical=not given_url)
    return finalize(fields, site=site.name, harvested_at=utc_now())


def file_uri(item: str) -> str:
    """Path(item).resolve().as_uri(), with the folder resolved once for all its files (pages
    come hundreds a run from a few folders): a last component that is no symlink (nor "." or
    "..") resolves to itself inside its resolved folder."""
    folder, name = os.path.split(item)
    if name in ("", ".", "..") or os.path.islink(item):
        return Path(item).resolve().as_uri()
    return (_resolved_folder(folder) / name).as_uri()


@functools.lru_cache(maxsize=64)
def _resolved_folder(folder: str) -> Path:
    return Path(folder).resolve()


def fetch(url: str) -> tuple[bytes, str, str | None]:
    """Body, final URL and declared charset of a fetched page (used by people, not by tests
    beyond a loopback server)."""
    import urllib.request  # only for URLs: saved pages start faster without it

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        body = response.read(MAX_FILE_BYTES + 1)
        headers: Message = response.headers
        return body[:MAX_FILE_BYTES], response.geturl(), headers.get_content_charset()


_now: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """The current UTC second, formatted once per second (inputs come hundreds a second)."""
    global _now
    second = int(time.time())
    if second != _now[0]:
        _now = (second, dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _now[1]
