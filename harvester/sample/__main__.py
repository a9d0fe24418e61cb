"""python -m harvester.sample serve|dump: run the offline sample archive.

    serve --size N [--seed S] [--host H] [--port P] [--crawl-delay D] [--faults JSON]
        serves until terminated; prints the base URL as the first stdout line.
    dump --size N [--seed S] --out DIR [--first K]
        writes pages/<record_id>.html and expected/<record_id>.json (extractor fixtures).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from harvester.sample.corpus import SampleArchive
from harvester.sample.listing_render import MARKUPS, ListingStyle
from harvester.sample.render import document_page
from harvester.sample.server import SampleServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harvester.sample")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the sample archive over HTTP")
    dump = sub.add_parser("dump", help="write document pages and their expected records")
    for p in (serve, dump):
        p.add_argument("--size", type=int, default=50)
        p.add_argument("--seed", type=int, default=0)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--crawl-delay", type=float, default=None)
    serve.add_argument("--faults", default=None, help="fault config as JSON (see faults.py)")
    serve.add_argument("--listing-markup", default="table", choices=MARKUPS,
                       help="how the listing is drawn (see listing_render.py)")
    serve.add_argument("--featured", action="store_true",
                       help="add chrome and side blocks that link (old) documents")
    dump.add_argument("--out", type=Path, required=True)
    dump.add_argument("--first", type=int, default=None, help="only the first K documents")
    return parser


def _serve(args: argparse.Namespace) -> int:
    faults = json.loads(args.faults) if args.faults else None
    server = SampleServer(
        SampleArchive(args.size, args.seed), args.host, args.port,
        crawl_delay=args.crawl_delay, faults=faults,
        listing=ListingStyle(markup=args.listing_markup, featured=args.featured),
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(server.base_url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def _dump(args: argparse.Namespace) -> int:
    archive = SampleArchive(args.size, args.seed)
    pages, expected = args.out / "pages", args.out / "expected"
    pages.mkdir(parents=True, exist_ok=True)
    expected.mkdir(parents=True, exist_ok=True)
    count = archive.size if args.first is None else min(args.first, archive.size)
    for i in range(count):
        doc = archive.document(i)
        (pages / f"{doc.record_id}.html").write_text(document_page(doc), encoding="utf-8")
        record = archive.expected_record(i)
        (expected / f"{doc.record_id}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    print(f"wrote {count} pages to {pages} and records to {expected}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return _serve(args) if args.command == "serve" else _dump(args)


if __name__ == "__main__":
    sys.exit(main())
