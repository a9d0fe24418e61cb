"""A second OAI-PMH repository no one on the team wrote: oai-repo's OAIRepository (PyPI
oai-repo 0.5.2: its own XML, resumption tokens, argument checks and errors) over records
kept in memory (an oai_repo.DataInterface), served on loopback by http.server. Its clock
is the real one (oai-repo writes responseDate from datetime.now), so datestamps of changes
are real times too.

A deleted record is what the DataInterface documents: a header of status "deleted" and no
metadata (get_record_metadata returns None). oai-repo 0.5.2 then leaves the record out of
ListRecords and GetRecord altogether (getrecord.add_records skips a record whose metadata
is None, and add_header never writes the status attribute): see
test_oai_oairepo_repository.py."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import oai_repo
from lxml import etree

DC = "http://purl.org/dc/elements/1.1/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
LIST_VERBS = ("ListRecords", "ListIdentifiers")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Entry:
    identifier: str
    datestamp: datetime
    title: str
    sets: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def number(self) -> str:
        return self.identifier.rsplit(":", 1)[1]


class MemoryData(oai_repo.DataInterface):
    """oai-repo's DataInterface over `entries`; `limit` is its page size."""

    def __init__(self, base_url: str = "", limit: int = 10,
                 deleted_record: str = "persistent") -> None:
        self.entries: dict[str, Entry] = {}
        self.base_url = base_url
        self.limit = limit
        self.deleted_record = deleted_record
        self.earliest = utcnow() - timedelta(days=2)

    def get_identify(self) -> oai_repo.Identify:
        return oai_repo.Identify(
            repository_name="oai-repo repository", base_url=self.base_url,
            # a string: 0.5.2's validator refuses a datetime (it tests the granularity's
            # type where it means the datestamp's)
            admin_email=["a@oairepo.test"],
            earliest_datestamp=oai_repo.helpers.datestamp_long(self.earliest),
            deleted_record=self.deleted_record, granularity="YYYY-MM-DDThh:mm:ssZ")

    def is_valid_identifier(self, identifier: str) -> bool:
        return identifier in self.entries

    def get_metadata_formats(self, identifier: str | None = None) -> list[Any]:
        return [oai_repo.MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                                        OAI_DC)]

    def get_record_header(self, identifier: str) -> oai_repo.RecordHeader:
        e = self.entries[identifier]
        return oai_repo.RecordHeader(identifier=e.identifier, datestamp=e.datestamp,
                                     setspecs=list(e.sets),
                                     status="deleted" if e.deleted else None)

    def get_record_metadata(self, identifier: str, metadataprefix: str) -> Any:
        e = self.entries[identifier]
        if e.deleted or metadataprefix != "oai_dc":
            return None
        root = etree.Element(f"{{{OAI_DC}}}dc", nsmap=oai_repo.NSMAP_OAIDC)
        root.set(*oai_repo.OAIDC_SCHEMA)
        for name, value in (("title", e.title), ("creator", "Writer, W."),
                            ("date", "1962-10-16"),
                            ("identifier", f"https://oairepo.test/item/{e.number}"),
                            ("language", "en")):
            etree.SubElement(root, f"{{{DC}}}{name}").text = value
        return root

    def get_record_abouts(self, identifier: str) -> list[Any]:
        return []

    def list_set_specs(self, identifier: str | None = None, cursor: int = 0) -> tuple:
        if identifier is not None:
            specs = sorted(self.entries[identifier].sets)
        else:
            specs = sorted({s for e in self.entries.values() for s in e.sets})
        return specs, len(specs), None

    def get_set(self, setspec: str) -> oai_repo.Set:
        return oai_repo.Set(spec=setspec, name=setspec, description=[])

    def list_identifiers(self, metadataprefix: str, filter_from: datetime | None = None,
                         filter_until: datetime | None = None, filter_set: str | None = None,
                         cursor: int = 0) -> tuple:
        chosen = sorted(
            (e for e in self.entries.values()
             if (filter_from is None or e.datestamp >= filter_from)
             and (filter_until is None or e.datestamp <= filter_until)
             and (filter_set is None
                  or any(s == filter_set or s.startswith(filter_set + ":") for s in e.sets))),
            key=lambda e: (e.datestamp, e.identifier))
        page = [e.identifier for e in chosen[cursor:cursor + self.limit]]
        return page, len(chosen), None


class OaiRepoServer:
    """oai-repo on 127.0.0.1 (a free port): `url`, `data` (the records), `requests` (the
    arguments of every /oai request, verb included). `hold_at = N` holds the N-th list
    request (ListRecords/ListIdentifiers since the last `requests.clear()`) until `release`
    is set; it is recorded with "held": "1"."""

    def __init__(self, page_size: int = 10, deleted_record: str = "persistent") -> None:
        self.data = MemoryData(limit=page_size, deleted_record=deleted_record)
        self.repository = oai_repo.OAIRepository(self.data)
        self.requests: list[dict[str, str]] = []
        self.failures: list[str] = []
        self.hold_at: int | None = None
        self.release = threading.Event()
        self.release.set()
        self.lock = threading.Lock()
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
                with outer.lock:
                    recorded = dict(params)
                    outer.requests.append(recorded)
                    lists = sum(r.get("verb") in LIST_VERBS for r in outer.requests)
                    hold = (outer.hold_at is not None and params.get("verb") in LIST_VERBS
                            and lists == outer.hold_at)
                    if hold:
                        recorded["held"] = "1"
                if hold:
                    outer.release.wait(60)
                try:
                    with outer.lock:  # the records do not change under a response
                        body = bytes(outer.repository.process(dict(params)))
                except Exception as exc:  # oai-repo's own failure: a 500 that says so
                    outer.failures.append(repr(exc))
                    self.send_error(500, explain=repr(exc))
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"
        self.data.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def entries(self) -> dict[str, Entry]:
        return self.data.entries

    @property
    def list_requests(self) -> list[dict[str, str]]:
        return [r for r in self.requests if r.get("verb") in LIST_VERBS]

    def add(self, n: int, *, at: datetime | None = None, sets: list[str] | None = None,
            spread: int = 10) -> list[str]:
        start = at or self.data.earliest
        ids = []
        with self.lock:
            for i in range(n):
                number = len(self.data.entries) + 1
                identifier = f"oai:oairepo.test:{number}"
                self.data.entries[identifier] = Entry(
                    identifier, start + timedelta(seconds=spread * i), f"Paper {number}",
                    list(sets or []))
                ids.append(identifier)
        return ids

    def edit(self, identifier: str, title: str, at: datetime | None = None) -> None:
        with self.lock:
            entry = self.data.entries[identifier]
            entry.title, entry.datestamp = title, at or utcnow()

    def delete(self, identifier: str, at: datetime | None = None) -> None:
        with self.lock:
            entry = self.data.entries[identifier]
            entry.deleted, entry.datestamp = True, at or utcnow()

    def get(self, **params: str) -> bytes:
        """oai-repo's answer to these arguments, as the server would send it."""
        with self.lock:
            return bytes(self.repository.process(dict(params)))

    def __enter__(self) -> OaiRepoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
