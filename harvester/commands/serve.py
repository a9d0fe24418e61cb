"""`harvester serve oai --store URI [--host H] [--port P]`: the store served as an OAI-PMH 2.0
repository at http://H:P/oai (GET and POST), with Prometheus metrics at /metrics.

The provider reads the OAI index the harvest keeps in the store (index/oai/...); when the
store has none yet, it builds one from the records and the changes feeds first.
`--rebuild-index` builds it again and exits. Settings (HARVESTER_OAI_*: namespace, page
size, repository name, admin e-mail, token secret, threads) come from harvester/settings.py,
the environment variables of the same name, then `-s NAME=VALUE`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the store to downstream harvesters (OAI-PMH 2.0)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = p.add_subparsers(dest="protocol", metavar="PROTOCOL", required=True)
    oai = kinds.add_parser("oai", help="an OAI-PMH 2.0 repository at /oai (GET and POST)",
                           description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    oai.add_argument("--store", default=None,
                     help="store URI (default: $HARVESTER_STORE, else ./harvest-data)")
    oai.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    oai.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    oai.add_argument("--rebuild-index", action="store_true",
                     help="build the store's OAI index again from its records and changes feeds, "
                          "then exit")
    oai.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                     help="override a HARVESTER_OAI_* setting (repeatable)")
    oai.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os

    from harvester.oaiserve.server import serve_oai

    store = args.store or os.environ.get("HARVESTER_STORE") or "./harvest-data"
    return serve_oai(store, host=args.host, port=args.port, overrides=args.settings,
                     rebuild=args.rebuild_index, out=sys.stderr)
