"""A look-alike OAI-PMH 2.0 repository on loopback, with the faults real ones have.

Not the harvester's provider (harvester/oaiserve): written from the protocol text for the
source's tests. Records live in memory and change under the tests (add, edit, delete);
the repository's clock is the tests' (`tick`), so datestamps and responseDate are exact.

Switches: granularity day/seconds, deletedRecord persistent/no/transient, page size,
tokens that expire (`expire_tokens`: every issued token refused, as after a restart),
the next list requests answered 503 with Retry-After (seconds or an HTTP date) or 429,
a truncated response, characters XML 1.0 forbids in a record, a record with broken
metadata XML, a 403 for every request (or from the n-th list request on), a token that
repeats for ever, tokens of another shape (`token_format`: entities in them), sets
(hierarchical: `a:b` is in `a`), OAI-PMH errors sent with another HTTP status than 200
(`error_statuses`), an `until` misread (`until_bug`: as exclusive, or a day as its
midnight), an endpoint with a query of its own (`mount`), a list that comes round again
after some pages (`token_cycle`), from/until ignored (`ignore_window`), a
last page whose token is refused (`refuse_last_token`), and three faults of
django-oai-pmh 0.3.9: an `until` without `from` refused (`until_needs_from`), token
pages that drop the set (`token_drops_set`: the whole repository from the second page on),
token pages that list what follows the window (`token_window_drift`: `from` its `until`);
headers that name no set (`hide_sets`). Every request is logged (`requests`, `list_requests`).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

DAY_FMT, SEC_FMT = "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Item:
    identifier: str
    datestamp: datetime
    title: str
    sets: list[str] = field(default_factory=list)
    deleted: bool = False
    creator: str = "Archivist, A."
    date: str = "1950-07-01"
    subject: str = "History"
    description: str = "A document."
    extra_xml: str = ""  # raw XML inside oai_dc:dc (a broken tag, forbidden characters)
    file: bool = False  # a dc:identifier link to a PDF on this host


@dataclass
class Fault:
    kind: str  # status | truncate | bad_token
    status: int = 503
    retry_after: str | None = None
    verb: str = "ListRecords"
    body: bytes = b"busy"
    keep: int | None = None  # truncate: the bytes kept (None: half the response)


class Repository:
    def __init__(self, *, granularity: str = "seconds", deleted_record: str = "persistent",
                 page_size: int = 10, start: datetime | None = None) -> None:
        self.granularity = granularity
        self.deleted_record = deleted_record
        self.page_size = page_size
        self.now = start or datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
        self.earliest = self.now
        self.items: dict[str, Item] = {}
        self.tokens: dict[str, tuple[dict[str, str], int]] = {}
        self._token_ids = itertools.count(1)
        self.faults: list[Fault] = []
        self.forbidden = False
        self.forbid_after: int | None = None  # list requests answered before every one is 403
        self.token_format = "t{}"  # the resumption tokens issued ("{}": a counter)
        self.loop_token = False
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.base_url = ""
        self.files_served = 0
        self.encoding = "utf-8"  # the bytes' own encoding (the declaration always says UTF-8)
        self.expire_after: int | None = None  # tokens expire when this many lists were asked
        self.hold_at: int | None = None  # the list request with this number waits for `release`
        self.release = threading.Event()
        self.claimed_granularity: str | None = None  # what Identify says, if not the truth
        # OAI-PMH errors answered with another HTTP status than 200 (the protocol's), as
        # some servers do: {"noRecordsMatch": 404, "badResumptionToken": 400, ...}
        self.error_statuses: dict[str, int] = {}
        self._answered_error: str | None = None
        # `until` misread, as some servers do: "midnight" (a day taken as its 00:00:00,
        # against datestamps kept in seconds), "exclusive" (datestamp < until)
        self.until_bug: str | None = None
        # arguments of the endpoint itself (`/oai?repository=main`, one of several
        # repositories behind one script): required on every request, not the protocol's
        self.mount: dict[str, str] = {}
        self.token_cycle: int | None = None  # pages after which the list comes round again
        self.ignore_window = False  # from/until ignored: every window lists everything
        self.refuse_last_token = False  # a list's last page carries a token it then refuses
        self.until_needs_from = False  # ListRecords with `until` but no `from`: badArgument
        self.token_drops_set = False  # a token's pages forget the list's set
        self.token_window_drift = False  # a token's pages list from the window's `until` on
        self.hide_sets = False  # headers without setSpec (sets still select)
        self.page_overlap = 0  # each page after the first lists the previous page's last N again
        self.robots_asked = 0  # requests for /robots.txt (answered 404 unless robots_txt)
        self.robots_txt: bytes | None = None  # the robots.txt served (None: a 404)

    # --- the tests' handles -----------------------------------------------------------
    def tick(self, seconds: float = 1) -> None:
        self.now += timedelta(seconds=seconds)

    def add(self, n: int, *, sets: list[str] | None = None, prefix: str = "rec",
            spread: float = 60.0, **kwargs: Any) -> list[str]:
        """n new records, datestamps `spread` seconds apart from now on (the clock moves)."""
        ids = []
        for _ in range(n):
            number = len(self.items) + 1
            identifier = f"oai:lookalike.test:{prefix}/{number}"
            self.items[identifier] = Item(identifier, self.now, f"Record {number}",
                                          list(sets or []), **kwargs)
            ids.append(identifier)
            self.tick(spread)
        return ids

    def edit(self, identifier: str, title: str) -> None:
        item = self.items[identifier]
        item.title, item.datestamp = title, self.now
        self.tick(1)

    def delete(self, identifier: str) -> None:
        item = self.items[identifier]
        if self.deleted_record == "no":
            del self.items[identifier]
        else:
            item.deleted, item.datestamp = True, self.now
        self.tick(1)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None,
                  verb: str = "ListRecords", body: bytes = b"busy") -> None:
        """The next `count` requests of `verb` answered `status` with `body` (a 200 with an
        empty body: a response cut off before its first byte)."""
        self.faults += [Fault("status", status, retry_after, verb, body) for _ in range(count)]

    def truncate_next(self, keep: int | None = None) -> None:
        """The next list response cut off: after `keep` bytes, or at its half."""
        self.faults.append(Fault("truncate", keep=keep))

    @property
    def list_requests(self) -> list[dict[str, str]]:
        return [r for r in self.requests if r.get("verb") == "ListRecords"]

    @property
    def window_requests(self) -> list[dict[str, str]]:
        """The list requests that open a window (no resumption token)."""
        return [r for r in self.list_requests if "resumptionToken" not in r]

    # --- the protocol -----------------------------------------------------------------
    def fmt(self, value: datetime) -> str:
        return value.strftime(SEC_FMT if self.granularity == "seconds" else DAY_FMT)

    def answer(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if params.get("verb") == "ListRecords" and self.hold_at is not None \
                and len(self.list_requests) + 1 >= self.hold_at:
            self.requests.append(dict(params, held="yes"))
            self.release.wait(60)
            return 503, {}, b"held"
        with self.lock:
            self.requests.append(dict(params))
            verb = params.get("verb", "")
            if self.forbidden or (verb == "ListRecords" and self.forbid_after is not None
                                  and len(self.list_requests) > self.forbid_after):
                return 403, {}, b"Forbidden"
            if verb == "ListRecords" and self.expire_after is not None \
                    and len(self.list_requests) > self.expire_after:
                self.expire_after = None
                self.expire_tokens()
            for fault in list(self.faults):
                if fault.verb == verb:
                    self.faults.remove(fault)
                    if fault.kind == "status":
                        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                        return fault.status, headers, fault.body
                    body = self._dispatch(params)
                    keep = len(body) // 2 if fault.keep is None else fault.keep
                    return 200, {}, body[:keep]
            self._answered_error = None
            body = self._dispatch(params)
            return self.error_statuses.get(self._answered_error or "", 200), {}, body

    def _envelope(self, params: dict[str, str], inner: str) -> bytes:
        attrs = "".join(f' {k}="{escape(v)}"' for k, v in params.items())
        text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"<responseDate>{self.now.strftime(SEC_FMT)}</responseDate>"
                f"<request{attrs}>{escape(self.base_url)}</request>{inner}</OAI-PMH>")
        return text.encode(self.encoding, errors="xmlcharrefreplace")

    def _error(self, params: dict[str, str], code: str, text: str = "") -> bytes:
        self._answered_error = code
        return self._envelope(params, f'<error code="{code}">{escape(text)}</error>')

    def _dispatch(self, params: dict[str, str]) -> bytes:
        verb = params.get("verb")
        if verb == "Identify":
            claimed = self.claimed_granularity or self.granularity
            gran = "YYYY-MM-DDThh:mm:ssZ" if claimed == "seconds" else "YYYY-MM-DD"
            return self._envelope(params, (
                "<Identify><repositoryName>Look-alike</repositoryName>"
                f"<baseURL>{escape(self.base_url)}</baseURL><protocolVersion>2.0</protocolVersion>"
                "<adminEmail>a@lookalike.test</adminEmail>"
                f"<earliestDatestamp>{self.fmt(self.earliest)}</earliestDatestamp>"
                f"<deletedRecord>{self.deleted_record}</deletedRecord>"
                f"<granularity>{gran}</granularity></Identify>"))
        if verb == "ListMetadataFormats":
            return self._envelope(params, (
                "<ListMetadataFormats><metadataFormat><metadataPrefix>oai_dc</metadataPrefix>"
                "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
                "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/"
                "</metadataNamespace></metadataFormat></ListMetadataFormats>"))
        if verb == "ListSets":
            specs = sorted({s for i in self.items.values() for s in i.sets})
            inner = "".join(f"<set><setSpec>{escape(s)}</setSpec><setName>{escape(s)}</setName>"
                            "</set>" for s in specs)
            return self._envelope(params, f"<ListSets>{inner}</ListSets>")
        if verb == "GetRecord":
            item = self.items.get(params.get("identifier", ""))
            if item is None:
                return self._error(params, "idDoesNotExist")
            return self._envelope(params, f"<GetRecord>{self._record(item)}</GetRecord>")
        if verb == "ListRecords":
            return self._list(params)
        return self._error(params, "badVerb", "illegal verb")

    def _check_stamp(self, value: str | None) -> datetime | None | str:
        if value is None:
            return None
        for fmt in (SEC_FMT, DAY_FMT):
            try:
                parsed = datetime.strptime(value, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
            if fmt == SEC_FMT and self.granularity == "day":
                return "finer than the repository's granularity"
            return parsed
        return "bad datestamp"

    def _list(self, params: dict[str, str]) -> bytes:
        if "resumptionToken" in params:
            if self.loop_token:
                query, offset = {"metadataPrefix": "oai_dc"}, 0
                token = params["resumptionToken"]
                return self._page(params, query, offset, token=token)
            entry = self.tokens.get(params["resumptionToken"])
            if entry is None or len(params) != 2:
                return self._error(params, "badResumptionToken", "expired")
            query, offset = entry
            if self.token_drops_set:
                query = {k: v for k, v in query.items() if k != "set"}
            if self.token_window_drift and "until" in query:
                query = {**{k: v for k, v in query.items() if k != "until"},
                         "from": query["until"]}
            return self._page(params, query, offset)
        if params.get("metadataPrefix") != "oai_dc":
            return self._error(params, "cannotDisseminateFormat")
        for name in ("from", "until"):
            checked = self._check_stamp(params.get(name))
            if isinstance(checked, str):
                return self._error(params, "badArgument", f"{name}: {checked}")
        if self.until_needs_from and "until" in params and "from" not in params:
            return self._error(params, "badArgument",
                               f'The value "{params["until"]}" of the argument "until" is not valid')
        return self._page(params, dict(params), 0)

    def _selected(self, query: dict[str, str]) -> list[Item]:
        start, stop = self._check_stamp(query.get("from")), self._check_stamp(query.get("until"))
        if self.ignore_window:
            start = stop = None
        spec = query.get("set")
        out = []
        for item in self.items.values():
            stamp = datetime.strptime(self.fmt(item.datestamp),
                                      SEC_FMT if self.granularity == "seconds" else DAY_FMT
                                      ).replace(tzinfo=UTC)
            if isinstance(start, datetime) and stamp < start:
                continue
            if isinstance(stop, datetime) and (
                    stamp > stop or (self.until_bug == "exclusive" and stamp == stop)
                    or (self.until_bug == "midnight" and item.datestamp > stop)):
                continue
            if spec and not any(s == spec or s.startswith(spec + ":") for s in item.sets):
                continue
            if item.deleted and self.deleted_record == "transient" and \
                    self.now - item.datestamp > timedelta(hours=1):
                continue
            out.append(item)
        return sorted(out, key=lambda i: (i.datestamp, i.identifier))

    def _page(self, params: dict[str, str], query: dict[str, str], offset: int,
              token: str | None = None) -> bytes:
        items = self._selected(query)
        if not items:
            return self._error(params, "noRecordsMatch")
        page = items[max(0, offset - self.page_overlap) if offset else 0:offset + self.page_size]
        inner = "".join(self._record(i) for i in page)
        if token is None and self.token_cycle:  # tokens c1, c2, ... c0, c1 again: endless
            following = (offset + self.page_size) % (self.token_cycle * self.page_size)
            token = f"c{following // self.page_size}"
            self.tokens[token] = (query, following)
        if token is None and offset + self.page_size < len(items):
            token = self.token_format.format(next(self._token_ids))
            self.tokens[token] = (query, offset + self.page_size)
        if token is None and self.refuse_last_token and offset + self.page_size >= len(items):
            token = f"after-the-end-{next(self._token_ids)}"  # never issued: refused
        if token is not None:
            inner += (f'<resumptionToken completeListSize="{len(items)}" cursor="{offset}">'
                      f"{escape(token)}</resumptionToken>")
        elif offset:
            inner += f'<resumptionToken completeListSize="{len(items)}" cursor="{offset}"/>'
        return self._envelope(params, f"<ListRecords>{inner}</ListRecords>")

    def _record(self, item: Item) -> str:
        sets = "" if self.hide_sets else "".join(f"<setSpec>{escape(s)}</setSpec>"
                                                 for s in item.sets)
        status = ' status="deleted"' if item.deleted else ""
        header = (f"<header{status}><identifier>{escape(item.identifier)}</identifier>"
                  f"<datestamp>{self.fmt(item.datestamp)}</datestamp>{sets}</header>")
        if item.deleted:
            return f"<record>{header}</record>"
        number = item.identifier.rsplit("/", 1)[1]
        links = f"<dc:identifier>{escape(self.host)}/item/{number}</dc:identifier>"
        if item.file:
            links += f"<dc:identifier>{escape(self.host)}/files/{number}.pdf</dc:identifier>"
        dc = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/">'
              f"<dc:title>{escape(item.title)}</dc:title>"
              f"<dc:creator>{escape(item.creator)}</dc:creator>"
              f"<dc:subject>{escape(item.subject)}</dc:subject>"
              f"<dc:description>{escape(item.description)}</dc:description>"
              f"<dc:date>{escape(item.date)}</dc:date><dc:type>Text</dc:type>"
              f"<dc:language>en</dc:language><dc:rights>Public domain</dc:rights>"
              f"{links}{item.extra_xml}</oai_dc:dc>")
        return f"<record>{header}<metadata>{dc}</metadata></record>"

    @property
    def host(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"


class _Handler(BaseHTTPRequestHandler):
    repo: Repository

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _reply(self, status: int, headers: dict[str, str], body: bytes,
               content_type: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _oai(self, query: str) -> None:
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        for name, value in self.repo.mount.items():
            if params.pop(name, None) != value:
                self._reply(404, {}, b"no such repository", "text/plain")
                return
        self._reply(*self.repo.answer(params))

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        if parts.path == "/oai":
            self._oai(parts.query)
        elif parts.path == "/robots.txt":
            self.repo.robots_asked += 1
            if self.repo.robots_txt is None:
                self._reply(404, {}, b"not found", "text/plain")
            else:
                self._reply(200, {}, self.repo.robots_txt, "text/plain")
        elif parts.path.startswith("/files/"):
            self.repo.files_served += 1
            self._reply(200, {}, b"%PDF-1.4 look-alike " + parts.path.encode(), "application/pdf")
        else:
            self._reply(404, {}, b"not found", "text/plain")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._oai(self.rfile.read(length).decode("utf-8"))


class LookalikeServer:
    def __init__(self, repo: Repository) -> None:
        handler = type("Handler", (_Handler,), {"repo": repo})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.repo = repo
        repo.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return self.repo.base_url

    def __enter__(self) -> LookalikeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def http_date_in(seconds: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)
