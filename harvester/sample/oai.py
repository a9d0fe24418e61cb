"""SampleOai: an OAI-PMH 2.0 endpoint over the sample archive's documents (at /oai).

Verbs: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord,
over GET and POST (application/x-www-form-urlencoded); oai_dc only (see oai_dc); the
protocol errors badVerb, badArgument, badResumptionToken, cannotDisseminateFormat,
idDoesNotExist and noRecordsMatch. Records, datestamps and sets: oai_catalog; tokens:
oai_tokens; the switches (day granularity, page size, forbidden characters, 503 answers
with an HTTP-date Retry-After, expiring tokens): oai_switches.

Links in the records (the document page, its PDFs) point at the host the request was
sent to, so a harvester downloads the files from this same loopback server.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harvester.sample import oai_xml as X
from harvester.sample.corpus import SampleArchive
from harvester.sample.oai_catalog import (
    ID_PREFIX,
    Entry,
    OaiCatalog,
    all_sets,
    day_end,
    fmt_stamp,
    identifier,
    parse_stamp,
    record_id_of,
)
from harvester.sample.oai_dc import oai_dc
from harvester.sample.oai_switches import OaiSwitches
from harvester.sample.oai_tokens import BadToken, Token, decode, encode
from harvester.sample.routes import Response

XML = "text/xml; charset=UTF-8"
PATH = "/oai"
LIST_VERBS = ("ListRecords", "ListIdentifiers")
REPOSITORY_NAME = "Wilson Center Digital Archive (offline sample)"
REPOSITORY_ID = ID_PREFIX.split(":")[1]
# verb -> (required arguments, optional arguments); a resumptionToken is exclusive
_ARGS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset()),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
}
_TOKEN_VERBS = ("ListRecords", "ListIdentifiers", "ListSets")


class OaiError(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


class SampleOai:
    """The endpoint: its catalog, switches and tokens. Thread-safe."""

    def __init__(self, archive: SampleArchive,
                 switches: Mapping[str, Any] | None = None) -> None:
        self.archive = archive
        self.catalog = OaiCatalog(archive)
        self.switches = OaiSwitches().changed(switches or {})
        self._lock = threading.Lock()
        self._epoch = 0  # tokens of an earlier epoch are refused
        self._expire_in = self.switches.expire_tokens_after
        self._unavailable = self.switches.unavailable
        self.errors: Counter[str] = Counter()  # OAI-PMH errors answered, by code
        self._busy_until = 0.0  # the last Retry-After date given (POSIX seconds)
        self.early_retries = 0  # list requests that came before that date
        self.busy_answers = 0  # list requests answered 503

    # -- switches -------------------------------------------------------------------------
    def configure(self, config: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.switches = self.switches.changed(config)
            if "unavailable" in config:
                self._unavailable = self.switches.unavailable
            if "expire_tokens_after" in config:
                self._expire_in = self.switches.expire_tokens_after
        return self.state()

    def state(self) -> dict[str, Any]:
        """The switches, with what is left of the counting ones, the clock and the epoch."""
        with self._lock:
            out = self.switches.to_json()
            out.update(unavailable=self._unavailable, expire_tokens_after=self._expire_in,
                       clock=fmt_stamp(self.catalog.clock, False), token_epoch=self._epoch,
                       errors=dict(self.errors), busy_answers=self.busy_answers,
                       early_retries=self.early_retries)
        return out

    def expire_tokens(self) -> int:
        """Every token issued so far is refused from now on; the new epoch."""
        with self._lock:
            self._epoch += 1
            return self._epoch

    def advance_clock(self, seconds: int) -> str:
        self.catalog.sync()
        return fmt_stamp(self.catalog.advance(seconds), False)

    # -- serving --------------------------------------------------------------------------
    def respond(self, method: str, url: str, body: bytes = b"", host: str | None = None,
                default_base: str = "") -> Response:
        """The response to one request of /oai (`url` path?query, `body` of a POST)."""
        if method not in ("GET", "HEAD", "POST"):
            return Response(405, b"Method Not Allowed\n", "text/plain",
                            [("Allow", "GET, HEAD, POST")], kind="oai")
        status = self.archive.page_status(None, "oai")  # break_site(paths="all")
        if status != 200:
            return Response(status, f"{status}\n".encode(), "text/plain", kind="oai")
        query = body.decode("utf-8", "replace") if method == "POST" else urlsplit(url).query
        pairs = parse_qsl(query, keep_blank_values=True)
        verb = next((v for k, v in pairs if k == "verb"), "")
        if verb in LIST_VERBS:
            busy = self._take_unavailable()
            if busy is not None:
                return busy
        base = f"http://{host}" if host and _plain_host(host) else default_base
        self.catalog.sync()
        params = dict(pairs)
        try:
            self._check(pairs)
            inner = self._dispatch(params, base)
        except OaiError as exc:
            with self._lock:
                self.errors[exc.code] += 1
            shown = None if exc.code in ("badVerb", "badArgument") else params
            return self._xml(base, shown, X.error(exc.code, exc.text))
        return self._xml(base, params, inner)

    def _xml(self, base: str, params: Mapping[str, str] | None, inner: str) -> Response:
        date = fmt_stamp(self.catalog.clock, False)
        return Response(200, X.envelope(date, base + PATH, params, inner), XML, kind="oai")

    def _take_unavailable(self) -> Response | None:
        """A 503 with an HTTP-date Retry-After while the switch says so; counts a list
        request that came back before the last date given (a client not honouring it)."""
        now = time.time()
        with self._lock:
            if now < self._busy_until:
                self.early_retries += 1
            if self._unavailable <= 0:
                return None
            self._unavailable -= 1
            self.busy_answers += 1
            # an HTTP date, whole seconds: rounded up so that the wait is never shorter
            self._busy_until = float(math.ceil(now) + self.switches.retry_after)
            when = formatdate(self._busy_until, usegmt=True)
        return Response(503, b"Service Unavailable: try again later\n", "text/plain",
                        [("Retry-After", when)], kind="oai")

    def _check(self, pairs: list[tuple[str, str]]) -> None:
        names = [k for k, _ in pairs]
        if names.count("verb") > 1:
            raise OaiError("badVerb", "the verb argument is repeated")
        verb = next((v for k, v in pairs if k == "verb"), None)
        if verb is None:
            raise OaiError("badVerb", "no verb argument")
        if verb not in _ARGS:
            raise OaiError("badVerb", f"illegal verb {verb!r}")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise OaiError("badArgument", f"repeated argument(s): {', '.join(repeated)}")
        given = set(names) - {"verb"}
        required, optional = _ARGS[verb]
        if "resumptionToken" in given and verb in _TOKEN_VERBS:
            if given != {"resumptionToken"}:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument")
            return
        unknown = given - required - optional
        if unknown:
            raise OaiError("badArgument", f"illegal argument(s) for {verb}: "
                                          f"{', '.join(sorted(unknown))}")
        missing = required - given
        if missing:
            raise OaiError("badArgument", f"missing argument(s) for {verb}: "
                                          f"{', '.join(sorted(missing))}")

    def _dispatch(self, params: dict[str, str], base: str) -> str:
        verb = params["verb"]
        if verb == "Identify":
            return self._identify(base)
        if verb == "ListMetadataFormats":
            if "identifier" in params:
                self._index_of(params["identifier"])
            return X.metadata_formats()
        if verb == "ListSets":
            if "resumptionToken" in params:
                raise OaiError("badResumptionToken", "ListSets is never split")
            return X.sets(all_sets())
        if verb == "GetRecord":
            self._check_prefix(params["metadataPrefix"])
            entry = self._entry(self._index_of(params["identifier"]))
            return f"<GetRecord>{self._record(entry, base)}</GetRecord>"
        return self._list(verb, params, base)

    def _identify(self, base: str) -> str:
        day = self.switches.granularity == "day"
        sample = identifier(self.archive.meta(0).record_id) if self.archive.size \
            else f"{ID_PREFIX}100000"
        return X.identify(
            name=REPOSITORY_NAME, base_url=base + PATH, email="archive@sample.invalid",
            earliest=fmt_stamp(self.catalog.earliest(), day),
            deleted_record=self.switches.deleted_record,
            granularity="YYYY-MM-DD" if day else "YYYY-MM-DDThh:mm:ssZ",
            repository_id=REPOSITORY_ID, sample_id=sample)

    @staticmethod
    def _check_prefix(prefix: str) -> None:
        if prefix != "oai_dc":
            raise OaiError("cannotDisseminateFormat",
                           f"metadataPrefix {prefix!r} is not offered (oai_dc is)")

    def _index_of(self, oai_identifier: str) -> int:
        record_id = record_id_of(oai_identifier)
        i = self.archive.index_of_record(record_id) if record_id else None
        if i is None or (self.catalog.is_deleted(i) and self.switches.deleted_record == "no"):
            raise OaiError("idDoesNotExist", f"no record {oai_identifier!r}")
        return i

    def _entry(self, i: int) -> Entry:
        return Entry(self.catalog.stamp(i), i, self.catalog.is_deleted(i))

    # -- lists ------------------------------------------------------------------------------
    def _list(self, verb: str, params: dict[str, str], base: str) -> str:
        self._count_list_request()
        if "resumptionToken" in params:
            token = self._token(verb, params["resumptionToken"])
        else:
            self._check_prefix(params["metadataPrefix"])
            token = Token(verb, params["metadataPrefix"], params.get("from"),
                          params.get("until"), params.get("set") or None, (-1, -1), self._epoch)
        start, stop = self._bounds(token.start, token.until)
        selected = self.catalog.select(start, stop, token.spec,
                                       include_deleted=self.switches.deleted_record != "no")
        rest = [e for e in selected if e.key > token.after]
        if not rest:
            raise OaiError("noRecordsMatch", "no records match the arguments")
        size = self.switches.page_size
        page, cursor = rest[:size], len(selected) - len(rest)
        if verb == "ListRecords":
            inner = "".join(self._record(e, base) for e in page)
        else:
            inner = "".join(self._header(e) for e in page)
        if len(rest) > size:
            nxt = Token(verb, token.prefix, token.start, token.until, token.spec,
                        page[-1].key, self._epoch)
            inner += X.resumption_token(encode(nxt), len(selected), cursor)
        elif cursor:
            inner += X.last_token(len(selected), cursor)
        return f"<{verb}>{inner}</{verb}>"

    def _count_list_request(self) -> None:
        with self._lock:
            if self._expire_in is None:
                return
            if self._expire_in == 0:
                self._epoch += 1
                self._expire_in = None
            else:
                self._expire_in -= 1

    def _token(self, verb: str, text: str) -> Token:
        try:
            token = decode(text)
        except BadToken as exc:
            raise OaiError("badResumptionToken", str(exc)) from None
        if token.verb != verb:
            raise OaiError("badResumptionToken", f"the token is of a {token.verb} list")
        if token.epoch != self._epoch:
            raise OaiError("badResumptionToken", "the resumption token expired")
        return token

    def _bounds(self, start: str | None, until: str | None) -> tuple[int | None, int | None]:
        """from/until as inclusive seconds; badArgument when malformed, finer than the
        granularity, of two granularities, or from after until."""
        parsed = {}
        for name, value in (("from", start), ("until", until)):
            if value is None:
                continue
            found = parse_stamp(value)
            if found is None:
                raise OaiError("badArgument", f"{name} is not a UTC datestamp: {value!r}")
            if not found[1] and self.switches.granularity == "day":
                raise OaiError("badArgument", f"{name} {value!r} is finer than the "
                                              "repository's granularity (YYYY-MM-DD)")
            parsed[name] = found
        if len(parsed) == 2 and parsed["from"][1] != parsed["until"][1]:
            raise OaiError("badArgument", "from and until have different granularities")
        low = parsed["from"][0] if "from" in parsed else None
        high = None
        if "until" in parsed:
            high = day_end(parsed["until"][0]) if parsed["until"][1] else parsed["until"][0]
        if low is not None and high is not None and low > high:
            raise OaiError("badArgument", "from is later than until")
        if low is not None and self.switches.granularity == "day":
            low -= low % 86_400
        return low, high

    def _header(self, entry: Entry) -> str:
        day = self.switches.granularity == "day"
        record_id = self.archive.meta(entry.index).record_id
        return X.header(identifier(record_id), fmt_stamp(entry.stamp, day),
                        self.catalog.sets_of(entry.index), entry.deleted)

    def _record(self, entry: Entry, base: str) -> str:
        head = self._header(entry)
        if entry.deleted:
            return X.record(head, None)
        doc = self.archive.document(entry.index)
        forbidden = self.switches.forbidden_in(doc.record_id)
        return X.record(head, oai_dc(doc, base, forbidden))


def _plain_host(host: str) -> bool:
    """A Host header fit to build links with (name or address, optional port)."""
    return all(c.isalnum() or c in ".-:[]" for c in host) and len(host) < 256
