"""Reading one OAI-PMH 2.0 response, whatever shape it arrives in.

Repositories send XML that XML 1.0 forbids (control characters, references to them), a
declared encoding that is not the bytes' own (or none), and responses cut off mid-way. The
reader survives all of them:

- the bytes are decoded as UTF-8, else as the encoding the XML declaration names, else as
  windows-1252; the declaration is dropped, so the text is parsed as it was decoded;
- characters XML 1.0 forbids, raw or as character references, are removed;
- the response is parsed strictly; when that fails, each <record> is parsed on its own
  and the envelope (responseDate, error, resumptionToken) with lxml's recovering parser:
  a record that still cannot be read is a problem (quarantined with its raw XML), the rest
  of the page is used;
- a response without its closing </OAI-PMH> (an empty body too) is *truncated*: its
  records are not used (the step is fetched again), since its resumption token may be what
  was cut off.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
NS = {"o": OAI, "oai_dc": OAI_DC, "dc": DC}

# XML 1.0's Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-]
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_FORBIDDEN_REF = re.compile(
    r"&#(?:x0*(?:[0-8bcefBCEF]|1[0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}|[fF]{3}[eEfF])"
    r"|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]|5[5-7][0-9]{3}|6553[45]));")
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.S)
_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_RECORD = re.compile(r"<(?:[\w.-]+:)?record[\s>].*?</(?:[\w.-]+:)?record\s*>", re.S)
_END = re.compile(r"</(?:[\w.-]+:)?OAI-PMH\s*>\s*$")
# the envelope's resumptionToken, read off a response's last bytes (peek_token): plain text
# only (an entity or CDATA in it: no guess)
_TAIL_BYTES = 8192
_END_BYTES = re.compile(rb"</(?:[\w.-]+:)?OAI-PMH\s*>\s*$")
_TOKEN_BYTES = re.compile(rb"<(?:[\w.-]+:)?resumptionToken\b[^>]*>([^<&]*)"
                          rb"</(?:[\w.-]+:)?resumptionToken\s*>")
_ANY_TOKEN_BYTES = re.compile(rb"<(?:[\w.-]+:)?resumptionToken\b")
_EMPTY_TOKEN_BYTES = re.compile(rb"<(?:[\w.-]+:)?resumptionToken\b[^>]*(?:/>|>\s*"
                                rb"</(?:[\w.-]+:)?resumptionToken\s*>)")
_ERROR_BYTES = re.compile(rb"<(?:[\w.-]+:)?error\b([^>]*)>")
_NO_RECORDS_BYTES = re.compile(rb"""\bcode\s*=\s*["']noRecordsMatch["']""")
_RECORD_START_BYTES = re.compile(rb"<(?:[\w.-]+:)?record[\s>]")

_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_RECOVER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                           recover=True)


@dataclass
class RawRecord:
    """One <record> (or a header of ListIdentifiers)."""

    identifier: str
    datestamp: str
    sets: list[str]
    deleted: bool
    metadata: Any  # the <metadata> child element (None for a deleted record)
    # the record as it came: its bytes, or its element, written out when `xml` is first
    # asked for (only a record that goes to the quarantine needs it: ~9 us a record saved)
    raw: Any

    @property
    def xml(self) -> bytes:
        """The record as it came, for the quarantine."""
        self.raw = _xml_of(self.raw)
        return self.raw


def _xml_of(raw: Any) -> bytes:
    """A record's bytes, from its bytes or its element."""
    return raw if isinstance(raw, bytes) else etree.tostring(raw)


@dataclass
class OaiResponse:
    response_date: str | None = None
    request_url: str | None = None
    verb: str | None = None
    error_code: str | None = None
    error_text: str = ""
    records: list[RawRecord] = field(default_factory=list)
    problems: list[tuple[str, str, bytes]] = field(default_factory=list)
    token: str | None = None  # the resumption token; None or "": the list ends here
    complete_size: int | None = None
    truncated: bool = False
    identify: dict[str, Any] = field(default_factory=dict)
    cleaned: int = 0  # forbidden characters removed
    prefixes: list[str] = field(default_factory=list)  # ListMetadataFormats
    set_specs: list[str] = field(default_factory=list)  # ListSets


def decode(body: bytes) -> str:
    """The response as text: UTF-8 when it is, else its declared encoding, else cp1252."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8):]
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = _DECL_ENCODING.match(body)
    if match:
        try:
            return body.decode(match.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    return body.decode("cp1252", errors="replace")


def clean(text: str) -> tuple[str, int]:
    """The text without characters XML 1.0 forbids (raw or referenced); how many went."""
    text, refs = _FORBIDDEN_REF.subn("", text)
    text, raw = _FORBIDDEN.subn("", text)
    return text, refs + raw


def read(body: bytes) -> OaiResponse:
    """The response's parts. Raises ValueError for a body that is no OAI-PMH response."""
    text, removed = clean(decode(body))
    text = _DECL.sub("", text, count=1).lstrip()
    out = OaiResponse(cleaned=removed)
    out.truncated = not _END.search(text)
    if not text:  # an empty body (or its declaration alone): cut off before the root
        return out
    root = None
    if not out.truncated:
        try:
            root = etree.fromstring(text, _STRICT)
        except etree.XMLSyntaxError:
            root = None
    if root is not None:
        _envelope(root, out)
        for element in root.iterfind(".//o:record", NS):
            _add_record(element, element, out)
        for element in root.iterfind("o:ListIdentifiers/o:header", NS):
            _add_header(element, out)
        return out
    # record by record, the envelope without them
    raws = _RECORD.findall(text)
    envelope = _RECORD.sub("", text)
    try:
        root = etree.fromstring(envelope, _RECOVER)
    except (etree.XMLSyntaxError, ValueError):  # ValueError: a declaration cut off
        root = None
    if root is None or _local_name(root) != "OAI-PMH":
        if out.truncated and _cut_at_its_start(text):
            return out  # cut off before its root could be read: fetched again
        raise ValueError("not an OAI-PMH response")
    _envelope(root, out)
    for raw in raws:
        try:
            element = etree.fromstring(_with_namespaces(raw, text), _STRICT)
        except etree.XMLSyntaxError as exc:
            identifier = _identifier_of(raw)
            out.problems.append((identifier, f"unreadable record XML: {exc}"[:500],
                                 raw.encode("utf-8")))
            continue
        _add_record(element, raw.encode("utf-8"), out)
    if out.truncated:  # what a cut-off page holds is fetched again
        out.records.clear()
        out.problems.clear()
    return out


_ROOT_START = re.compile(r"<(?:[\w.-]+:)?OAI-PMH(?=[\s/>]|$)")
_PARTIAL_NAME = re.compile(r"<(?:([\w.-]+):)?([\w.-]*)")


def _cut_at_its_start(text: str) -> bool:
    """Whether a response without its end was cut off at or before its root's start tag:
    the text is what may come before the root (declaration, comments, processing
    instructions, a doctype), possibly itself cut, then nothing, a part of the root's
    name, or the root's start tag, whole or cut (its namespace declarations with it, so
    not even a recovering parser reads the root). Anything else (an HTML page, another
    XML document) is no OAI-PMH response."""
    rest = text
    while True:
        rest = rest.lstrip()
        for opening, closing in (("<?", "?>"), ("<!--", "-->"), ("<!DOCTYPE", ">")):
            if rest.startswith(opening) or (opening.startswith(rest) and rest):
                end = rest.find(closing, len(opening))
                if end < 0:
                    return True  # cut inside what comes before the root
                rest = rest[end + len(closing):]
                break
        else:
            break
    if not rest or _ROOT_START.match(rest):
        return True
    partial = _PARTIAL_NAME.fullmatch(rest)  # a name cut off: its prefix, or the root's
    return partial is not None and (partial.group(1) is None
                                    or "OAI-PMH".startswith(partial.group(2)))


def _local_name(element: Any) -> str:
    """An element's local name; "" for a name that is none (an undeclared prefix that a
    recovering parser kept in it)."""
    try:
        return str(etree.QName(element).localname)
    except ValueError:
        return ""


def peek_token(body: bytes) -> str | None:
    """The resumption token of a whole response, guessed off its last bytes without parsing
    it (harvester/lookahead.py): None when it cannot be told that cheaply (no token, the
    list's end, an entity or CDATA in it, a response cut off, not UTF-8). `read` decides;
    this only lets the next page be asked for sooner."""
    tail = _whole_tail(body)
    if tail is None:
        return None
    found = list(_TOKEN_BYTES.finditer(tail))
    if not found:
        return None
    try:
        token = found[-1].group(1).decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return token or None


def peek_list_end(body: bytes) -> tuple[str, int] | None:
    """A whole response that ends its list, told off its bytes without parsing it (the
    guess of the next window: harvester/lookahead.py): ("no_records", 0) for noRecordsMatch,
    ("end", records on the page) for a page without a token or with an empty one; None when
    it cannot be told that cheaply (a token, another error, a response cut off)."""
    tail = _whole_tail(body)
    if tail is None:
        return None
    error = _ERROR_BYTES.search(body, 0, _TAIL_BYTES)
    if error is not None:
        return ("no_records", 0) if _NO_RECORDS_BYTES.search(error.group(1)) else None
    tokens = _ANY_TOKEN_BYTES.findall(tail)
    if len(tokens) > 1 or (tokens and not _EMPTY_TOKEN_BYTES.search(tail)):
        return None
    return "end", len(_RECORD_START_BYTES.findall(body))


def _whole_tail(body: bytes) -> bytes | None:
    """The response's last bytes, where its envelope's token is; None when it was cut off."""
    tail = body[-_TAIL_BYTES:]
    return tail if _END_BYTES.search(tail) else None


def _with_namespaces(raw: str, whole: str) -> str:
    """A record cut out of its response, with the prefixes the response's root declared."""
    head = re.search(r"<(?:[\w.-]+:)?OAI-PMH\b([^>]*)>", whole)
    if not head:
        return raw
    declared = dict(re.findall(r"xmlns(?::([\w.-]+))?=[\"']([^\"']*)[\"']", head.group(1)))
    tag_end = raw.index(">")
    opening = raw[:tag_end]
    declared.setdefault("", OAI)
    extra = "".join((f' xmlns:{p}="{u}"' if p else f' xmlns="{u}"')
                    for p, u in declared.items()
                    if f"xmlns:{p}=" not in opening and (p or "xmlns=" not in opening))
    if opening.endswith("/"):
        return opening[:-1] + extra + "/" + raw[tag_end:]
    return opening + extra + raw[tag_end:]


def _identifier_of(raw: str) -> str:
    match = re.search(r"<(?:[\w.-]+:)?identifier>\s*([^<]+?)\s*</", raw)
    return match.group(1) if match else "unknown-record"


def _text(element: Any, path: str) -> str | None:
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _envelope(root: Any, out: OaiResponse) -> None:
    if _local_name(root) != "OAI-PMH":
        raise ValueError("not an OAI-PMH response")
    out.response_date = _text(root, "o:responseDate")
    request = root.find("o:request", NS)
    if request is not None:
        out.request_url = (request.text or "").strip() or None
        out.verb = request.get("verb")
    error = root.find("o:error", NS)
    if error is not None:
        out.error_code = error.get("code") or "unknown"
        out.error_text = " ".join((error.text or "").split())
    token = root.find(".//o:resumptionToken", NS)
    if token is not None:
        out.token = (token.text or "").strip() or None
        size = token.get("completeListSize")
        out.complete_size = int(size) if size and size.isdigit() else None
    out.prefixes = [p.text.strip() for p in root.iterfind(
        "o:ListMetadataFormats/o:metadataFormat/o:metadataPrefix", NS) if p.text]
    out.set_specs = [p.text.strip() for p in root.iterfind("o:ListSets/o:set/o:setSpec", NS)
                     if p.text]
    identify = root.find("o:Identify", NS)
    if identify is not None:
        out.identify = {
            "repository_name": _text(identify, "o:repositoryName"),
            "base_url": _text(identify, "o:baseURL"),
            "protocol_version": _text(identify, "o:protocolVersion"),
            "earliest": _text(identify, "o:earliestDatestamp"),
            "deleted_record": _text(identify, "o:deletedRecord"),
            "granularity": _text(identify, "o:granularity"),
        }


_HEADER, _METADATA = f"{{{OAI}}}header", f"{{{OAI}}}metadata"
_IDENTIFIER, _DATESTAMP, _SET_SPEC = (f"{{{OAI}}}identifier", f"{{{OAI}}}datestamp",
                                      f"{{{OAI}}}setSpec")
_FIRST_ONLY = frozenset({_IDENTIFIER, _DATESTAMP})


def _header(element: Any) -> tuple[str, str, list[str], bool]:
    """(identifier, datestamp, sets, deleted) of a <record> or a <header>: the header's
    first identifier and datestamp and every setSpec, read in one pass over its children
    (what find/iterfind with the o: prefix give, at a quarter of their cost)."""
    tag = element.tag
    if isinstance(tag, str) and tag.rpartition("}")[2] == "header":
        header = element
    else:
        header = next((c for c in element if c.tag == _HEADER), None)
        if header is None:
            raise ValueError("a record without a header")
    first: dict[str, str | None] = {}  # the first identifier's and datestamp's texts
    sets: list[str] = []
    for child in header:
        name = child.tag
        if name == _SET_SPEC:
            text = (child.text or "").strip()
            if text:
                sets.append(text)
        elif name in _FIRST_ONLY:
            first.setdefault(name, child.text)
    identifier = " ".join((first.get(_IDENTIFIER) or "").split())
    if not identifier:
        raise ValueError("a record header without an identifier")
    stamp = (first.get(_DATESTAMP) or "").strip()
    return identifier, stamp, sets, header.get("status") == "deleted"


def _add_record(element: Any, raw: Any, out: OaiResponse) -> None:
    """`raw`: the record's bytes, or its element (written out only for a problem)."""
    try:
        identifier, datestamp, sets, deleted = _header(element)
    except ValueError as exc:
        xml = _xml_of(raw)
        out.problems.append((_identifier_of(xml.decode("utf-8", "replace")), str(exc), xml))
        return
    metadata = next((c for c in element if c.tag == _METADATA), None)
    child = None
    if metadata is not None:
        child = next((c for c in metadata if isinstance(c.tag, str)), None)
    if child is None and not deleted:
        out.problems.append((identifier, "a record without metadata", _xml_of(raw)))
        return
    out.records.append(RawRecord(identifier, datestamp, sets, deleted, child, raw))


def _add_header(element: Any, out: OaiResponse) -> None:
    try:
        identifier, datestamp, sets, deleted = _header(element)
    except ValueError as exc:
        out.problems.append(("unknown-record", str(exc), etree.tostring(element)))
        return
    out.records.append(RawRecord(identifier, datestamp, sets, deleted, None,
                                 etree.tostring(element)))
