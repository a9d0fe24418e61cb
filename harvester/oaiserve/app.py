"""The OAI-PMH 2.0 repository as a WSGI application: `/oai` (GET and POST, the six verbs,
every protocol error as OAI XML with HTTP 200) and `/metrics` (Prometheus).

    identifier   oai:<namespace>:<source>:<record_id>   (split on the first three colons:
                                                         record ids may hold colons)
    datestamp    when the record last changed in the store, YYYY-MM-DDThh:mm:ssZ
    sets         <source> (e.g. wilson) and <source>:<type slug> (e.g. wilson:telegram)
    deleted      persistent: a withdrawn record is a header with status="deleted"

A failure of the store is answered 503 with Retry-After, anything unexpected 500, both as
one line of text: never a traceback (it goes to the log).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from lxml import etree

from harvester.exceptions import StoreError
from harvester.export.dc import XSI, xml_text
from harvester.keys import is_site, record_key
from harvester.oaiserve import formats, tokens
from harvester.oaiserve.config import OaiSettings
from harvester.oaiserve.index import Entry, IndexGone, IndexReader, Manifest, Query
from harvester.oaiserve.metrics import Metrics

log = logging.getLogger(__name__)

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_ID = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = f"{OAI_ID} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
MAX_BODY = 64 * 1024  # a POST's form body (the longest request is a token, ~400 bytes)

_SET_SPEC_RE = re.compile(r"^[A-Za-z0-9_.!~*'()-]+(:[A-Za-z0-9_.!~*'()-]+)*$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# verb -> (required arguments, optional arguments); resumptionToken is exclusive
ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}),
                        frozenset({"from", "until", "set", "resumptionToken"})),
    "ListRecords": (frozenset({"metadataPrefix"}),
                    frozenset({"from", "until", "set", "resumptionToken"})),
}


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _el(parent: Any, name: str, text: str | None = None, **attrs: str) -> Any:
    node = etree.SubElement(parent, f"{{{OAI}}}{name}", {k: v for k, v in attrs.items()})
    if text is not None:
        node.text = xml_text(text)
    return node


def parse_datestamp(value: str, *, end: bool) -> tuple[str, str]:
    """(YYYY-MM-DDThh:mm:ssZ, granularity) of a from/until argument; badArgument if not
    one of the two granularities or not a real date. A day is its first (from) or last
    (until) second."""
    if _DAY_RE.fullmatch(value):
        fmt, granularity = "%Y-%m-%d", "day"
    elif _SECONDS_RE.fullmatch(value):
        fmt, granularity = "%Y-%m-%dT%H:%M:%SZ", "seconds"
    else:
        raise OaiError("badArgument", f"not a datestamp of this repository's granularity "
                       f"({GRANULARITY}, or YYYY-MM-DD): {value!r}")
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        raise OaiError("badArgument", f"not a date: {value!r}") from None
    if granularity == "day":
        value += "T23:59:59Z" if end else "T00:00:00Z"
    return value, granularity


class OaiApp:
    """The WSGI application. Thread-safe: one instance serves every server thread."""

    def __init__(self, store: Any, settings: OaiSettings | None = None,
                 reader: IndexReader | None = None, metrics: Metrics | None = None) -> None:
        self.store = store
        self.settings = settings or OaiSettings()
        self.reader = reader or IndexReader(store, ttl=self.settings.index_ttl)
        self.metrics = metrics or Metrics()
        self.pool = ThreadPoolExecutor(16, thread_name_prefix="oai-read")
        # a page's records are read 16 at a time from a remote store (each GET is a round
        # trip), one after the other from a local one (threads only cost there)
        self.parallel_reads = str(getattr(store, "uri", "")).startswith("s3://")
        self.verbs: dict[str, Callable[[Manifest | None, dict[str, str], str], list[Any]]] = {
            "Identify": self.identify, "ListMetadataFormats": self.list_metadata_formats,
            "ListSets": self.list_sets, "GetRecord": self.get_record,
            "ListIdentifiers": self.list_identifiers, "ListRecords": self.list_records,
        }

    def close(self) -> None:
        self.pool.shutdown(wait=False)

    # --- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/metrics" and method in ("GET", "HEAD"):
            return self._reply(start_response, "200 OK", self.metrics.render(),
                               self.metrics.content_type)
        if path.rstrip("/") != "/oai":
            return self._text(start_response, "404 Not Found", "not found: the OAI-PMH "
                              "repository is at /oai, its metrics at /metrics")
        if method not in ("GET", "HEAD", "POST"):
            return self._text(start_response, "405 Method Not Allowed",
                              "OAI-PMH requests are GET or POST", [("Allow", "GET, POST")])
        started = time.perf_counter()
        verb, error = "", None
        try:
            args = self._arguments(environ)
            verb = (args.get("verb") or [""])[0]
            body, error = self.respond(args, self._base_url(environ))
        except StoreError as exc:
            log.warning("OAI request failed: the store could not be read: %s", exc)
            self.metrics.failures.inc()
            return self._text(start_response, "503 Service Unavailable",
                              "the store could not be read; try again", [("Retry-After", "10")])
        except Exception:  # noqa: BLE001 - the client gets one line, the log the traceback
            log.exception("OAI request failed")
            self.metrics.failures.inc()
            return self._text(start_response, "500 Internal Server Error",
                              "the repository failed to answer this request")
        finally:
            self.metrics.observe(verb, time.perf_counter() - started)
        if error:
            self.metrics.errors.labels(error).inc()
        return self._reply(start_response, "200 OK", body, "text/xml; charset=utf-8")

    @staticmethod
    def _reply(start_response: Callable[..., Any], status: str, body: bytes, content_type: str,
               headers: list[tuple[str, str]] | None = None) -> list[bytes]:
        start_response(status, [("Content-Type", content_type),
                                ("Content-Length", str(len(body))), *(headers or [])])
        return [body]

    def _text(self, start_response: Callable[..., Any], status: str, text: str,
              headers: list[tuple[str, str]] | None = None) -> list[bytes]:
        return self._reply(start_response, status, (text + "\n").encode(),
                           "text/plain; charset=utf-8", headers)

    @staticmethod
    def _arguments(environ: dict[str, Any]) -> dict[str, list[str]]:
        if environ.get("REQUEST_METHOD") == "POST":
            try:
                length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
            except ValueError:
                length = 0
            raw = environ["wsgi.input"].read(length) if length > 0 else b""
            query = raw.decode("utf-8", errors="replace")
        else:
            query = environ.get("QUERY_STRING", "")
            if isinstance(query, bytes):
                query = query.decode("utf-8", errors="replace")
            else:  # WSGI hands the query string over as latin-1 of its bytes
                query = query.encode("latin-1", errors="replace").decode("utf-8",
                                                                           errors="replace")
        try:
            return parse_qs(query, keep_blank_values=True, errors="replace", max_num_fields=50)
        except ValueError:
            return {"": ["too many arguments"]}

    def _base_url(self, environ: dict[str, Any]) -> str:
        if self.settings.base_url:
            return self.settings.base_url
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:" \
                                            f"{environ.get('SERVER_PORT', '80')}"
        return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}/oai"

    # --- the protocol ---------------------------------------------------------------------
    def respond(self, args: dict[str, list[str]], base_url: str) -> tuple[bytes, str | None]:
        """The OAI-PMH answer to a request's arguments, and its error code (or None)."""
        root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
        root.set(f"{{{XSI}}}schemaLocation", OAI_SCHEMA)
        _el(root, "responseDate", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        request = _el(root, "request", base_url)
        try:
            verb, params = self._check(args)
            for attempt in range(2):
                manifest = self.reader.manifest(fresh=attempt > 0)
                try:
                    content = self.verbs[verb](manifest, params, base_url)
                    break
                except IndexGone as exc:  # a newer generation dropped what this one named
                    if attempt:
                        raise StoreError("the OAI index changed twice during one request") from exc
            for name, value in [("verb", verb), *sorted(params.items())]:
                request.set(name, xml_text(value))
            root.extend(content)
            error = None
        except OaiError as exc:
            if exc.code not in ("badVerb", "badArgument"):
                for name, values in sorted(args.items()):
                    request.set(name, xml_text(values[0]))
            _el(root, "error", exc.message, code=exc.code)
            error = exc.code
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), error

    @staticmethod
    def _check(args: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
        verbs = args.get("verb", [])
        if len(verbs) != 1 or verbs[0] not in ARGUMENTS:
            what = ("no verb" if not verbs else "the verb is repeated" if len(verbs) > 1
                    else f"not an OAI-PMH verb: {verbs[0]!r}")
            raise OaiError("badVerb", f"{what} (one of {', '.join(ARGUMENTS)})")
        verb = verbs[0]
        required, optional = ARGUMENTS[verb]
        params: dict[str, str] = {}
        for name, values in args.items():
            if name == "verb":
                continue
            if name not in required | optional:
                raise OaiError("badArgument", f"{verb} takes no argument {name!r}")
            if len(values) > 1:
                raise OaiError("badArgument", f"the argument {name!r} is repeated")
            if not values[0]:
                raise OaiError("badArgument", f"the argument {name!r} is empty")
            params[name] = values[0]
        if "resumptionToken" in params:
            if len(params) > 1:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument")
            return verb, params
        missing = sorted(required - set(params))
        if missing:
            raise OaiError("badArgument", f"{verb} needs the argument(s) {', '.join(missing)}")
        return verb, params

    def identify(self, manifest: Manifest | None, params: dict[str, str], base_url: str
                 ) -> list[Any]:
        s = self.settings
        node = etree.Element(f"{{{OAI}}}Identify")
        earliest = (manifest.earliest() if manifest else None) or \
            datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for name, value in (("repositoryName", s.repository_name), ("baseURL", base_url),
                            ("protocolVersion", "2.0"), ("adminEmail", s.admin_email),
                            ("earliestDatestamp", earliest), ("deletedRecord", "persistent"),
                            ("granularity", GRANULARITY)):
            _el(node, name, value)
        description = _el(node, "description")
        ident = etree.SubElement(description, f"{{{OAI_ID}}}oai-identifier",
                                 nsmap={None: OAI_ID})
        ident.set(f"{{{XSI}}}schemaLocation", OAI_ID_SCHEMA)
        sample = "wilson:100005"
        if manifest and manifest.segments:
            first = manifest.segments[0].first
            sample = f"{first[1]}:{first[2]}"
        for name, value in (("scheme", "oai"), ("repositoryIdentifier", s.namespace),
                            ("delimiter", ":"), ("sampleIdentifier", f"oai:{s.namespace}:{sample}")):
            etree.SubElement(ident, f"{{{OAI_ID}}}{name}").text = xml_text(value)
        return [node]

    def list_metadata_formats(self, manifest: Manifest | None, params: dict[str, str],
                              base_url: str = "") -> list[Any]:
        offered = {"oai_dc": formats.OAI_DC_FORMAT, **(manifest.prefixes() if manifest else {})}
        if "identifier" in params:
            entry = self._entry(manifest, params["identifier"])
            offered = {p: f for p, f in offered.items() if p == "oai_dc" or p in entry.prefixes}
        node = etree.Element(f"{{{OAI}}}ListMetadataFormats")
        for prefix, described in offered.items():
            fmt = _el(node, "metadataFormat")
            _el(fmt, "metadataPrefix", prefix)
            _el(fmt, "schema", described.get("schema", ""))
            _el(fmt, "metadataNamespace", described.get("namespace", ""))
        return [node]

    def list_sets(self, manifest: Manifest | None, params: dict[str, str],
                  base_url: str = "") -> list[Any]:
        if "resumptionToken" in params:
            raise OaiError("badResumptionToken", "ListSets is answered in one response: "
                           "it issues no resumption tokens")
        sets = manifest.sets() if manifest else {}
        if not sets:
            raise OaiError("noSetHierarchy", "the repository holds no records, so no sets")
        node = etree.Element(f"{{{OAI}}}ListSets")
        for spec, name in sets.items():
            item = _el(node, "set")
            _el(item, "setSpec", spec)
            _el(item, "setName", name or spec)
        return [node]

    def get_record(self, manifest: Manifest | None, params: dict[str, str],
                   base_url: str = "") -> list[Any]:
        prefix = params["metadataPrefix"]
        self._check_prefix(manifest, prefix)
        entry = self._entry(manifest, params["identifier"])
        if prefix != "oai_dc" and prefix not in entry.prefixes:
            raise OaiError("cannotDisseminateFormat",
                           f"the record is not available as {prefix!r}")
        record = None if entry.deleted else self._read(entry)
        node = self._record(entry, record, prefix)
        if node is None:
            raise OaiError("cannotDisseminateFormat",
                           f"the record is not available as {prefix!r}")
        out = etree.Element(f"{{{OAI}}}GetRecord")
        out.append(node)
        return [out]

    def list_identifiers(self, manifest: Manifest | None, params: dict[str, str],
                         base_url: str = "") -> list[Any]:
        return self._list("ListIdentifiers", manifest, params)

    def list_records(self, manifest: Manifest | None, params: dict[str, str],
                     base_url: str = "") -> list[Any]:
        return self._list("ListRecords", manifest, params)

    # --- lists ----------------------------------------------------------------------------
    def _list(self, verb: str, manifest: Manifest | None, params: dict[str, str]) -> list[Any]:
        size_given: int | None = None
        if "resumptionToken" in params:
            if manifest is None:
                raise OaiError("badResumptionToken", "the repository has no index yet")
            try:
                state = tokens.decode(params["resumptionToken"], lineage=manifest.lineage,
                                      secret=self.settings.token_secret)
            except tokens.BadToken as exc:
                raise OaiError("badResumptionToken", str(exc)) from None
            if state.verb != verb:
                raise OaiError("badResumptionToken", f"the token continues a {state.verb}, "
                               f"not a {verb}")
            query = Query(state.prefix, state.set_spec, state.start, state.end)
            after: tuple[str, str, str] | None = state.after
            cursor, size_given = state.cursor, state.size
        else:
            query = self._query(manifest, params)
            after, cursor = None, 0
        if manifest is None:
            raise OaiError("noRecordsMatch", "the repository holds no records yet")
        page_size = self.settings.page_size
        entries = self.reader.select(manifest, query, after, page_size + 1)
        if not entries:
            raise OaiError("noRecordsMatch", "no records match the request")
        page, more = entries[:page_size], len(entries) > page_size
        size = size_given if size_given is not None else self.reader.count(manifest, query)
        node = etree.Element(f"{{{OAI}}}{verb}")
        if verb == "ListIdentifiers":
            node.extend(self._header(e) for e in page)
        else:
            live = [e for e in page if not e.deleted]
            read = self.pool.map(self._read, live) if self.parallel_reads else map(self._read, live)
            records = dict(zip((e.key for e in live), read, strict=True))
            for entry in page:
                item = self._record(entry, records.get(entry.key), query.prefix)
                if item is not None:
                    node.append(item)
        if more or size_given is not None:
            token = ""
            if more:
                token = tokens.encode(tokens.TokenState(
                    verb=verb, prefix=query.prefix, set_spec=query.set_spec, start=query.start,
                    end=query.end, after=page[-1].key, cursor=cursor + len(page),
                    size=max(size, cursor + len(page) + 1), lineage=manifest.lineage,
                    generation=manifest.generation), self.settings.token_secret)
            _el(node, "resumptionToken", token, completeListSize=str(max(size, cursor + len(page))),
                cursor=str(cursor))
        return [node]

    def _query(self, manifest: Manifest | None, params: dict[str, str]) -> Query:
        prefix = params["metadataPrefix"]
        self._check_prefix(manifest, prefix)
        start = end = None
        grains = set()
        if "from" in params:
            start, grain = parse_datestamp(params["from"], end=False)
            grains.add(grain)
        if "until" in params:
            end, grain = parse_datestamp(params["until"], end=True)
            grains.add(grain)
        if len(grains) > 1:
            raise OaiError("badArgument", "from and until must have the same granularity")
        spec = params.get("set")
        if spec is not None:
            if not _SET_SPEC_RE.fullmatch(spec):
                raise OaiError("badArgument", f"not a setSpec: {spec!r}")
            if manifest is None or not manifest.sets():
                raise OaiError("noSetHierarchy", "the repository holds no records, so no sets")
        return Query(prefix, spec, start, end)

    def _check_prefix(self, manifest: Manifest | None, prefix: str) -> None:
        if prefix != "oai_dc" and (manifest is None or prefix not in manifest.prefixes()):
            raise OaiError("cannotDisseminateFormat",
                           f"metadata format {prefix!r} is not offered (see ListMetadataFormats)")

    def _entry(self, manifest: Manifest | None, identifier: str) -> Entry:
        parts = identifier.split(":", 3)
        if (manifest is None or len(parts) != 4 or parts[0] != "oai"
                or parts[1] != self.settings.namespace or not is_site(parts[2]) or not parts[3]):
            raise OaiError("idDoesNotExist", f"no record has the identifier {identifier!r}")
        entry = self.reader.entry(manifest, parts[2], parts[3])
        if entry is None:
            raise OaiError("idDoesNotExist", f"no record has the identifier {identifier!r}")
        return entry

    def _read(self, entry: Entry) -> dict[str, Any] | None:
        data = self.store.get(record_key(entry.site, entry.record_id))
        if data is None:
            return None
        try:
            record = json.loads(data)
        except ValueError:
            log.error("record %s of %s is not JSON", entry.record_id, entry.site)
            return None
        return record if isinstance(record, dict) else None

    def identifier(self, entry: Entry) -> str:
        return f"oai:{self.settings.namespace}:{entry.site}:{entry.record_id}"

    def _header(self, entry: Entry) -> Any:
        header = etree.Element(f"{{{OAI}}}header")
        if entry.deleted:
            header.set("status", "deleted")
        _el(header, "identifier", self.identifier(entry))
        _el(header, "datestamp", entry.datestamp)
        for spec in entry.sets():
            _el(header, "setSpec", spec)
        return header

    def _record(self, entry: Entry, record: dict[str, Any] | None, prefix: str) -> Any:
        """A <record>: the header, and the metadata unless deleted; None when the record
        cannot be shown in `prefix` (gone from the store meanwhile, raw XML unreadable)."""
        node = etree.Element(f"{{{OAI}}}record")
        node.append(self._header(entry))
        if entry.deleted:
            return node
        if record is None:
            return None
        meta = formats.metadata(record, prefix)
        if meta is None:
            return None
        _el(node, "metadata").append(meta)
        return node
