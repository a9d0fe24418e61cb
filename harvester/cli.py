"""The `harvester` command line: one sub-command per module in harvester/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from harvester import __version__
from harvester.exceptions import HarvesterError

# sub-command name -> module in harvester.commands exposing add_parser(subparsers) and run(args)
COMMANDS = ("harvest", "extract", "export", "demo", "status", "verify", "check", "serve")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command, or of `only` that one (its module alone is imported:
    `harvester extract` starts without the crawler's modules)."""
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


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
