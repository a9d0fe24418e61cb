"""`harvester serve oai`: the OAI-PMH application served by waitress (a production WSGI
server: a thread pool, HTTP/1.1, keep-alive, request size limits) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from harvester.oaiserve.app import OaiApp
from harvester.oaiserve.build import build_index
from harvester.oaiserve.config import OaiSettings, load_settings
from harvester.oaiserve.index import load_latest_manifest

log = logging.getLogger(__name__)


def prepare_index(store: Any, settings: OaiSettings, *, rebuild: bool, out: TextIO) -> None:
    """Build the store's OAI index when it has none (or when asked to)."""
    if not rebuild and load_latest_manifest(store) is not None:
        return
    why = "rebuilding" if rebuild else "no OAI index in the store yet: building"
    print(f"harvester serve oai: {why} it from the records and changes feeds", file=out,
          flush=True)
    result = build_index(store, segment_size=settings.segment_size)
    print(f"harvester serve oai: index generation {result.generation}: "
          f"{result.entries_changed} records", file=out, flush=True)


def serve_oai(store_uri: str, *, host: str, port: int, overrides: Sequence[str] = (),
              rebuild: bool = False, out: TextIO = sys.stderr) -> int:
    from waitress.server import create_server

    from pipelines.storage import open_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    settings = load_settings(overrides)
    store = open_store(store_uri)
    prepare_index(store, settings, rebuild=rebuild, out=out)
    if rebuild:
        return 0
    app = OaiApp(store, settings)
    server = create_server(app, host=host, port=port, threads=settings.threads,
                           ident="archive-harvester", clear_untrusted_proxy_headers=True)
    bound = getattr(server, "effective_port", port)
    print(f"harvester serve oai: OAI-PMH 2.0 at http://{host}:{bound}/oai "
          f"(metrics at /metrics), store {store_uri}", file=out, flush=True)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        app.close()
    return 0
