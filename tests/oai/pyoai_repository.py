"""An OAI-PMH repository no one on the team wrote: pyoai's server (oaipmh.server, PyPI
pyoai 2.5.0: its own XML, tokens, argument checks and errors) over records kept in memory,
served on loopback by http.server. Its clock is the real one (pyoai writes responseDate
from utcnow), so datestamps of changes are real times too."""

from __future__ import annotations

import cgi
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from oaipmh import common, error
from oaipmh.metadata import MetadataRegistry
from oaipmh.server import BatchingServer, oai_dc_writer

# pyoai 2.5.0 decodes its tokens with cgi.parse_qs, gone since Python 3.8: its successor
if not hasattr(cgi, "parse_qs"):
    cgi.parse_qs = urllib.parse.parse_qs  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.utcnow().replace(microsecond=0)  # pyoai takes naive UTC datetimes


@dataclass
class Entry:
    identifier: str
    datestamp: datetime
    title: str
    sets: list[str] = field(default_factory=list)
    deleted: bool = False


class Provider:
    """pyoai's IBatchingOAI: the data side of the repository."""

    def __init__(self, base_url: str = "") -> None:
        self.entries: dict[str, Entry] = {}
        self.base_url = base_url
        self.earliest = utcnow() - timedelta(days=2)

    def identify(self) -> Any:
        return common.Identify(repositoryName="pyoai repository", baseURL=self.base_url,
                               protocolVersion="2.0", adminEmails=["a@pyoai.test"],
                               earliestDatestamp=self.earliest, deletedRecord="persistent",
                               granularity="YYYY-MM-DDThh:mm:ssZ", compression=["identity"])

    def listMetadataFormats(self, identifier: str | None = None) -> Any:  # noqa: N802
        return [("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                 "http://www.openarchives.org/OAI/2.0/oai_dc/")]

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> Any:  # noqa: N802
        specs = sorted({s for e in self.entries.values() for s in e.sets})
        return [(s, s, None) for s in specs][cursor:cursor + batch_size]

    def _select(self, metadataPrefix: str, set: str | None = None,  # noqa: A002, N803
                from_: datetime | None = None, until: datetime | None = None) -> list[Entry]:
        if metadataPrefix != "oai_dc":
            raise error.CannotDisseminateFormatError(metadataPrefix)
        out = [e for e in self.entries.values()
               if (from_ is None or e.datestamp >= from_)
               and (until is None or e.datestamp <= until)
               and (set is None or any(s == set or s.startswith(set + ":") for s in e.sets))]
        if not out:
            raise error.NoRecordsMatchError("no records")
        return sorted(out, key=lambda e: (e.datestamp, e.identifier))

    def _record(self, e: Entry) -> Any:
        header = common.Header(None, e.identifier, e.datestamp, e.sets, e.deleted)
        if e.deleted:
            return header, None, None
        number = e.identifier.rsplit(":", 1)[1]
        metadata = common.Metadata(None, {
            "title": [e.title], "creator": ["Writer, W."], "date": ["1962-10-16"],
            "identifier": [f"https://pyoai.test/item/{number}"], "language": ["en"]})
        return header, metadata, None

    def listRecords(self, metadataPrefix: str, set: str | None = None,  # noqa: A002, N802, N803
                    from_: datetime | None = None, until: datetime | None = None,
                    cursor: int = 0, batch_size: int = 10) -> Any:
        chosen = self._select(metadataPrefix, set, from_, until)
        return [self._record(e) for e in chosen[cursor:cursor + batch_size]]

    def listIdentifiers(self, metadataPrefix: str, set: str | None = None,  # noqa: A002, N802, N803
                        from_: datetime | None = None, until: datetime | None = None,
                        cursor: int = 0, batch_size: int = 10) -> Any:
        chosen = self._select(metadataPrefix, set, from_, until)
        return [self._record(e)[0] for e in chosen[cursor:cursor + batch_size]]

    def getRecord(self, metadataPrefix: str, identifier: str) -> Any:  # noqa: N802, N803
        entry = self.entries.get(identifier)
        if entry is None:
            raise error.IdDoesNotExistError(identifier)
        return self._record(entry)


class PyoaiServer:
    def __init__(self, batch_size: int = 10) -> None:
        self.provider = Provider()
        registry = MetadataRegistry()
        registry.registerWriter("oai_dc", oai_dc_writer)
        self.server = BatchingServer(self.provider, registry, resumption_batch_size=batch_size)
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                if parts.path != "/oai":
                    self.send_response(404)
                    self.end_headers()
                    return
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                outer.requests.append(dict(params))
                body = outer.server.handleRequest(params)
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"
        self.provider.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def add(self, n: int, *, at: datetime | None = None, sets: list[str] | None = None,
            spread: int = 10) -> list[str]:
        start = at or self.provider.earliest
        ids = []
        for i in range(n):
            number = len(self.provider.entries) + 1
            identifier = f"oai:pyoai.test:{number}"
            self.provider.entries[identifier] = Entry(
                identifier, start + timedelta(seconds=spread * i), f"Paper {number}",
                list(sets or []))
            ids.append(identifier)
        return ids

    def __enter__(self) -> PyoaiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
