"""The `harvester` command line: one sub-command per module in harvester/commands/."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from harvester import __version__
from harvester.exceptions import HarvesterError

if TYPE_CHECKING:
    import argparse

# sub-command name -> module in harvester.commands exposing add_parser(subparsers) and run(args)
COMMANDS = ("harvest", "extract", "export", "demo", "status", "verify", "check", "serve")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command, or of `only` that one (its module alone is imported:
    `harvester extract` starts without the crawler's modules)."""
    import argparse  # (not for a plain `harvester extract`: see _plain_extract)

    parser = argparse.ArgumentParser(
        prog="harvester",
        description="Harvest digital archives of historical documents into S3 or a local directory.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in (only,) if only in COMMANDS else COMMANDS:
        module = importlib.import_module(f"harvester.commands.{name}")
        module.add_parser(sub)
    return parser


# `harvester extract`'s options that take one value (harvester/commands/extract.py)
_EXTRACT_OPTIONS = {"--site": "site", "--url": "url"}


def _plain_extract(argv: list[str]) -> Any:
    """The arguments argparse makes of `extract` given in its plainest form, without argparse
    (its import, its parsers and their parse: ~5 ms of every `harvester extract` process, a
    batch of pages each): --site and --url as `--opt VALUE` (a value not starting with "-")
    or `--opt=VALUE`, the last one given winning, around one run of inputs none of which
    starts with "-". Anything else (other options, -h, "--", inputs split by an option,
    which argparse refuses) is None: argparse parses it."""
    if not argv or argv[0] != "extract":
        return None
    from harvester.commands import extract

    values: dict[str, str | None] = {"site": extract.DEFAULT_SITE, "url": None}
    inputs: list[str] = []
    ended = False  # the run of inputs is over (an option came after it)
    i = 1
    while i < len(argv):
        token = argv[i]
        if token.startswith("-"):
            name, eq, value = token.partition("=")
            if name not in _EXTRACT_OPTIONS:
                return None
            if not eq:
                i += 1
                if i == len(argv) or argv[i].startswith("-"):
                    return None
                value = argv[i]
            values[_EXTRACT_OPTIONS[name]] = value
            ended = bool(inputs)
        elif ended:
            return None
        else:
            inputs.append(token)
        i += 1
    if not inputs:
        return None
    return SimpleNamespace(command="extract", **values, inputs=inputs, run=extract.run)


def main(argv: Sequence[str] | None = None) -> int:
    own = argv is None  # the process's own command line: it exits when this returns
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _plain_extract(argv)
    if args is None:
        parser = build_parser(argv[0] if argv else None)
        args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except HarvesterError as exc:
        print(f"harvester {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"harvester {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if own and args.command == "extract":
            # The process ends next: the collector's passes at interpreter exit need not walk
            # every object it holds (~5 ms of each `harvester extract` process). Only for
            # extract, which writes nothing but its flushed lines: frozen objects in
            # reference cycles are not finalised at exit (a file among them not flushed).
            import gc

            gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
