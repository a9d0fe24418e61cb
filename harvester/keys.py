"""Storage keys of the store layout (see README "Store layout").

Every key and every listing prefix is built here, from validated parts only, so no key
can leave its record's own place (no "..", no slashes, no control characters).

Identifiers become key parts by a reversible encoding (`id_to_key_part`, undone by
`key_part_to_id`), so any identifier an archive uses (OAI-PMH's `oai:host:123`, ids with
slashes, dots, spaces, Unicode) has exactly one key part, and a listed key gives its id back:

- kept as they are: ASCII letters, digits, `_`; `-` unless first; `.` unless first or
  right after another `.` (so a part never starts with `.` or `-` and holds no `..`).
  A plain id (`100005`, `117029`, `a-1.b`) is its own key part: today's keys stay exactly.
- every other character becomes `!XX` per byte of its UTF-8 form, `XX` two UPPERCASE hex
  digits (`!` itself is `!21`): `oai:example.org:123/x` -> `oai!3Aexample.org!3A123!2Fx`,
  `..` -> `!2E!2E`, `\u00fc` -> `!C3!BC`, `%` -> `!25`.
  Why `!`: it is on AWS's list of safe characters for S3 keys, valid in POSIX and Windows
  file names, and left alone by URL decoding (`%`, the usual escape, is on AWS's list of
  characters to avoid: a key put into a URL as it is gets percent-decoded into another
  key). It sorts before every kept character, so a listing's key order is the ids' order
  but for a few cases `harvester.export.order` repairs with a small buffer. Interactive
  shells expand `!`: quote such keys ('records/oai/oai!3A...json').
- one form only: `key_part_to_id` refuses lowercase hex, escapes of kept characters and
  malformed escapes, so id -> part -> id and part -> id -> part are both exact.
- bounded: an id whose part would exceed MAX_KEY_PART_BYTES (200 bytes; a character
  escapes to 3 to 12 bytes: ~22 CJK characters) gets a *hashed* part instead: the escaped
  form's first HASHED_HEAD_BYTES bytes (cut between escapes), `~` and the first 40 hex
  digits of the id's SHA-256 (`~` is never in an escaped part: it would be `!7E`). Such a
  part is one per id but gives no id back (`key_part_to_id` refuses it): whoever lists
  keys reads the id from the object (`is_hashed_part`). Empty ids and lone surrogates
  are refused with UnsafeKey; the record then fails validation (quarantined).
- limitation: letter case is kept, so ids differing only in case (`Ab`, `ab`) have
  different keys that collide on a case-insensitive file system (macOS, Windows) used as
  a local store; S3 and Linux file systems keep them apart.
"""

from __future__ import annotations

import hashlib
import re
import string
from functools import lru_cache
from typing import TypeGuard

from harvester.exceptions import UnsafeKey

_SITE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_RECORD_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ ()+,-]{0,150}$")
_RUN_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6,12}$")

# The top folders of the store layout, each holding one folder per site.
PLACES = ("records", "versions", "files", "raw", "runs", "quarantine", "state", "index")
RECORD_SUFFIX = ".json"
CHANGES_SUFFIX = ".changes.jsonl"
# A record's kept file bytes, beside its versions: versions/<site>/<id>/files/<sha256>/<name>
FILE_VERSIONS = "files/"
_SHA256_RE = re.compile(r"[0-9a-f]{64}")

ESCAPE = "!"
# the mark of a hashed key part (a long id's): its head, HASHED, 40 hex digits of SHA-256
HASHED = "~"
HASHED_HEAD_BYTES = 150
_HASH_DIGITS = 40
# The longest key part of a record id (bytes): one path segment stays far below the 255
# bytes of a file name (with `.json`, or a fallback file name's `-<n>.pdf`).
MAX_KEY_PART_BYTES = 200
_MAX_FILE_PART_BYTES = 250  # a fallback file name: a record id's part and its suffix
_KEPT = frozenset(string.ascii_letters + string.digits + "_")
_HEX = frozenset("0123456789ABCDEF")
# An id that is its own key part (the fast path; the loop below gives the same answer).
_PLAIN_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]|\.(?!\.))*")
# The characters kept_at escapes: a first one not in _KEPT, a "." after a ".", any but
# _KEPT, "-" and ".".
_ESCAPED_RE = re.compile(r"^[^A-Za-z0-9_]|(?<=\.)\.|[^A-Za-z0-9_.\-]")
# A key part's shape: kept characters and well-formed escapes (`_decode`'s fast path; the
# canonical form is checked apart), and a run of escapes in it.
_PART_RE = re.compile(r"(?:[A-Za-z0-9_.\-]|![0-9A-F]{2})+")
_ESCAPE_RUN_RE = re.compile(r"(?:![0-9A-F]{2})+")
# ":" (OAI-PMH identifiers have two or more), "/" (a DSpace handle's `123456789/42`, arXiv's
# `hep-th/9901001`), and a kept character that stands in for them when the rest of an id is
# checked by _PLAIN_RE: kept_at treats all three alike as the previous character ("." or "-"
# after any of them is kept), and a ":" or "/" is escaped wherever it stands.
_COLON = f"{ESCAPE}3A"
_SLASH = f"{ESCAPE}2F"
_STAND_IN = "a"


def id_to_key_part(identifier: str) -> str:
    """The key part (one path segment, ASCII) of any identifier; UnsafeKey when it has none
    (not a string, empty, a lone surrogate, longer than MAX_KEY_PART_BYTES encoded)."""
    if type(identifier) is str:
        return _cached_key_part(identifier)
    return _encode(identifier, MAX_KEY_PART_BYTES)


def is_plain_id(part: str) -> bool:
    """Whether `part` is an identifier that is its own key part (nothing escaped): what
    id_to_key_part(part) == part says, without its cache."""
    return len(part) <= MAX_KEY_PART_BYTES and _PLAIN_RE.fullmatch(part) is not None


@lru_cache(maxsize=4096)
def _cached_key_part(identifier: str) -> str:
    # a record's key is asked for several times on its way to the store (dedup, the
    # record, its journal line, the run report): escaped ids cost a regular expression pass
    return _encode(identifier, MAX_KEY_PART_BYTES)


def key_part_to_id(part: str) -> str:
    """The identifier whose key part is `part`; UnsafeKey when `part` is not one."""
    return _decode(part, MAX_KEY_PART_BYTES)


def is_record_id(identifier: object) -> TypeGuard[str]:
    """True when `identifier` has a key part (any non-empty string of bounded length)."""
    try:
        id_to_key_part(identifier)  # type: ignore[arg-type]
    except UnsafeKey:
        return False
    return True


def is_hashed_part(part: str) -> bool:
    """Whether a key part (or a key's last segment) is a long id's hashed part, which
    gives no id back: the id is in the object it names."""
    return HASHED in part


def _hashed(part: str, identifier: str) -> str:
    """A long id's key part: the head of its escaped `part`, HASHED, its hash."""
    cut = HASHED_HEAD_BYTES
    if part[cut - 1] == ESCAPE:  # never inside an escape
        cut -= 1
    elif part[cut - 2] == ESCAPE:
        cut -= 2
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:_HASH_DIGITS]
    return f"{part[:cut]}{HASHED}{digest}"


def _encode(identifier: str, limit: int) -> str:
    if not isinstance(identifier, str) or not identifier:
        raise UnsafeKey(f"unsafe identifier: {identifier!r}")
    if len(identifier) > limit:  # every character takes at least one byte: hashed below
        part = _escaped(identifier)
    elif _PLAIN_RE.fullmatch(identifier):
        part = identifier
    elif (":" in identifier or "/" in identifier) and _plain_but_fast(identifier):
        # an OAI-PMH identifier: only its ":" and "/" escaped
        part = identifier.replace(":", _COLON).replace("/", _SLASH)
    else:
        part = _escaped(identifier)
    if len(part) > limit:
        return _hashed(part, identifier)
    return part


def _plain_but_fast(identifier: str) -> bool:
    """Whether every character of `identifier` but its ":" and "/" stays as it is in the key
    part (the fast paths of _encode and _decode for OAI-PMH identifiers)."""
    return _PLAIN_RE.fullmatch(
        identifier.replace(":", _STAND_IN).replace("/", _STAND_IN)) is not None


def _escaped(identifier: str) -> str:
    """`"".join(_units(identifier))` in one regular-expression pass (the same rule: see
    kept_at), for ids with characters to escape (an OAI-PMH identifier's ":")."""
    try:
        return _ESCAPED_RE.sub(_escape_match, identifier)
    except UnicodeEncodeError:
        raise UnsafeKey(f"identifier is not valid Unicode: {identifier!r}") from None


def _escape_match(match: re.Match[str]) -> str:
    return "".join(f"{ESCAPE}{byte:02X}" for byte in match.group().encode("utf-8"))


def kept_at(char: str, index: int, previous: str) -> bool:
    """Whether `char`, at `index` of an id after the character `previous`, stays as it is
    in the key part (else it is escaped)."""
    return char in _KEPT or (index > 0 and (char == "-" or (char == "." and previous != ".")))


def key_part_units(identifier: str) -> list[str]:
    """The key part of `identifier`, one item per character (the character or its escape);
    UnsafeKey when the identifier has no key part."""
    id_to_key_part(identifier)
    return _units(identifier)


def _units(identifier: str) -> list[str]:
    if _PLAIN_RE.fullmatch(identifier):
        return list(identifier)
    if len(identifier) <= MAX_KEY_PART_BYTES:
        try:
            escaped = {m.start(): _escape_match(m) for m in _ESCAPED_RE.finditer(identifier)}
        except UnicodeEncodeError:
            raise UnsafeKey(f"identifier is not valid Unicode: {identifier!r}") from None
        return [escaped.get(index, char) for index, char in enumerate(identifier)]
    return _units_slow(identifier)


def _units_slow(identifier: str) -> list[str]:
    out: list[str] = []
    previous = ""
    for index, char in enumerate(identifier):
        if kept_at(char, index, previous):
            out.append(char)
        else:
            try:
                data = char.encode("utf-8")
            except UnicodeEncodeError:
                raise UnsafeKey(f"identifier is not valid Unicode: {identifier!r}") from None
            out.append("".join(f"{ESCAPE}{byte:02X}" for byte in data))
        previous = char
    return out


def _decode(part: str, limit: int) -> str:
    if not isinstance(part, str) or not part or len(part) > limit:
        raise UnsafeKey(f"not a key part: {part!r}")
    if _PLAIN_RE.fullmatch(part):
        return part  # a plain id is its own key part (_decode_slow says the same)
    if ":" not in part and "/" not in part and \
            part.count(ESCAPE) == part.count(_COLON) + part.count(_SLASH):
        # escapes of ":" and "/" only (an OAI-PMH identifier; each "!" starts one of them):
        # canonical when every other character is kept where it stands
        identifier = part.replace(_COLON, ":").replace(_SLASH, "/")
        if _plain_but_fast(identifier):
            return identifier
    if _PART_RE.fullmatch(part):
        # each run of escapes decoded at once (a character's bytes are never split
        # between runs); the canonical test below is _decode_slow's own
        try:
            identifier = _ESCAPE_RUN_RE.sub(_unescape_run, part)
        except UnicodeDecodeError:
            raise UnsafeKey(f"not a key part (not UTF-8): {part!r}") from None
        if _encode(identifier, limit) != part:
            raise UnsafeKey(f"not a key part (not the canonical form): {part!r}")
        return identifier
    return _decode_slow(part, limit)


def _unescape_run(match: re.Match[str]) -> str:
    return bytes.fromhex(match.group().replace(ESCAPE, "")).decode("utf-8")


def _decode_slow(part: str, limit: int) -> str:
    """_decode one character at a time: the reasons for every part that is not one."""
    data = bytearray()
    index = 0
    while index < len(part):
        char = part[index]
        if char == ESCAPE:
            digits = part[index + 1:index + 3]
            if len(digits) != 2 or not set(digits) <= _HEX:
                raise UnsafeKey(f"not a key part (bad escape): {part!r}")
            data.append(int(digits, 16))
            index += 3
        elif char in _KEPT or char in "-.":
            data.append(ord(char))
            index += 1
        else:
            raise UnsafeKey(f"not a key part: {part!r}")
    try:
        identifier = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeKey(f"not a key part (not UTF-8): {part!r}") from None
    if _encode(identifier, limit) != part:
        raise UnsafeKey(f"not a key part (not the canonical form): {part!r}")
    return identifier


def check_site(site: str) -> str:
    if not isinstance(site, str) or not _SITE_RE.fullmatch(site):
        raise UnsafeKey(f"unsafe site name: {site!r}")
    return site


def is_site(site: object) -> bool:
    return isinstance(site, str) and _SITE_RE.fullmatch(site) is not None


def check_record_id(record_id: str) -> str:
    """Return the record id when it is a *plain* id (its own key part, the form of the
    Wilson archive's Record IDs: a letter or digit, then letters, digits, `.`, `_`, `-`, no
    `..`, at most 64), else raise UnsafeKey. Keys take any id (see `id_to_key_part`)."""
    if not isinstance(record_id, str) or not _RECORD_ID_RE.fullmatch(record_id):
        raise UnsafeKey(f"unsafe record id: {record_id!r}")
    if ".." in record_id:
        raise UnsafeKey(f"unsafe record id: {record_id!r}")
    return record_id


def is_safe_record_id(record_id: object) -> bool:
    """True for a plain record id (see `check_record_id`)."""
    try:
        check_record_id(record_id)  # type: ignore[arg-type]
    except UnsafeKey:
        return False
    return True


def fallback_file_name(record_id: str, index: int = 0) -> str:
    """The name of a record's file when the page gives none that is safe:
    `<record id>.pdf`, `<record id>-<index>.pdf` after the first (as a key part)."""
    part = id_to_key_part(record_id)  # an id that has a key has a fallback name
    suffix = ".pdf" if index == 0 else f"-{int(index)}.pdf"
    if is_hashed_part(part):  # a long id's: its hashed part, within bounds
        return part + suffix
    return _encode(record_id + suffix, _MAX_FILE_PART_BYTES)


def safe_file_name(name: str, fallback: str) -> str:
    """A file name usable as the last key segment: the given one when safe (a plain file
    name, or a key part such as `fallback_file_name` gives), else `fallback` (a key part)."""
    name = name.rsplit("/", 1)[-1] if isinstance(name, str) else ""
    if (_FILE_NAME_RE.fullmatch(name) and ".." not in name) or _is_file_part(name) \
            or _HASHED_FILE_RE.fullmatch(name):
        return name
    if not _HASHED_FILE_RE.fullmatch(fallback):
        _decode(fallback, _MAX_FILE_PART_BYTES)
    return fallback


# a long id's fallback file name: its hashed key part, then `.pdf` or `-<n>.pdf`
_HASHED_FILE_RE = re.compile(r"(?:[A-Za-z0-9_.\-]|![0-9A-F]{2})+~[0-9a-f]{40}(?:-[0-9]+)?\.pdf")


def _is_file_part(name: str) -> bool:
    try:
        _decode(name, _MAX_FILE_PART_BYTES)
    except UnsafeKey:
        return False
    return True


def check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise UnsafeKey(f"unsafe run id: {run_id!r}")
    return run_id


def is_run_id(run_id: object) -> bool:
    return isinstance(run_id, str) and _RUN_ID_RE.fullmatch(run_id) is not None


def url_digest(url: str) -> str:
    """A short stable digest of a URL, used for per-URL state keys."""
    return hashlib.sha256(url.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]


# --- prefixes: what a listing of one place of one site starts with ----------------------

def top_prefix(place: str) -> str:
    """`<place>/`: the top folder of one place of the layout (all sites)."""
    if place not in PLACES:
        raise UnsafeKey(f"not a place of the store layout: {place!r}")
    return place + "/"


def site_prefix(place: str, site: str) -> str:
    """`<place>/<site>/`."""
    return f"{top_prefix(place)}{check_site(site)}/"


def record_prefix(site: str) -> str:
    return site_prefix("records", site)


def versions_prefix(site: str, record_id: str | None = None) -> str:
    """`versions/<site>/`, or `versions/<site>/<record id's key part>/`."""
    prefix = site_prefix("versions", site)
    return prefix if record_id is None else f"{prefix}{id_to_key_part(record_id)}/"


def files_prefix(site: str, record_id: str | None = None) -> str:
    """`files/<site>/`, or `files/<site>/<record id's key part>/`."""
    prefix = site_prefix("files", site)
    return prefix if record_id is None else f"{prefix}{id_to_key_part(record_id)}/"


def raw_prefix(site: str) -> str:
    return site_prefix("raw", site)


def runs_prefix(site: str) -> str:
    return site_prefix("runs", site)


def quarantine_prefix(site: str) -> str:
    return site_prefix("quarantine", site)


def state_prefix(site: str, *parts: str) -> str:
    """`state/<site>/<part>/.../`."""
    return state_key(site, *parts) + "/"


def missing_prefix(site: str) -> str:
    return state_prefix(site, "missing")


# --- keys ------------------------------------------------------------------------------

def record_key(site: str, record_id: str) -> str:
    """`records/<site>/<record id's key part>.json` (a plain id is its own key part)."""
    return f"{record_prefix(site)}{id_to_key_part(record_id)}{RECORD_SUFFIX}"


def record_id_of_key(site: str, key: str) -> str | None:
    """The record id a listed `records/<site>/...` key belongs to; None for any other key."""
    return _id_in(key, record_prefix(site))


def version_key(site: str, record_id: str, content_sha256: str) -> str:
    """Where a superseded version of a record is kept (issue 3)."""
    _check_hex(content_sha256)
    return f"{versions_prefix(site, record_id)}{content_sha256}.json"


_STAMP_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$")


def withdrawn_version_key(site: str, record_id: str, content_sha256: str,
                          withdrawn_at: str) -> str:
    """Where the withdrawn version of a record is kept once it is restored: its content hash
    equals the restored record's, so it carries its withdrawal time beside the hash
    (versions/<site>/<id>/<sha256>.withdrawn-<YYYYMMDDTHHMMSSZ>.json)."""
    _check_hex(content_sha256)
    m = _STAMP_RE.fullmatch(withdrawn_at) if isinstance(withdrawn_at, str) else None
    if m is None:
        raise UnsafeKey(f"not an ISO 8601 UTC time: {withdrawn_at!r}")
    stamp = "{}{}{}T{}{}{}Z".format(*m.groups())
    return f"{versions_prefix(site, record_id)}{content_sha256}.withdrawn-{stamp}.json"


def version_name_sha(name: str) -> str:
    """The content hash a version object's name carries (`<sha>.json` or
    `<sha>.withdrawn-<stamp>.json`); "" when the name is neither."""
    m = re.fullmatch(r"([0-9a-f]{64})(?:\.withdrawn-\d{8}T\d{6}Z)?\.json", name)
    return m.group(1) if m else ""


def missing_key(site: str, record_id: str) -> str:
    """The missing mark of a record whose page answered 404 (state/<site>/missing/<id>.json)."""
    return f"{missing_prefix(site)}{id_to_key_part(record_id)}{RECORD_SUFFIX}"


def missing_id_of_key(site: str, key: str) -> str | None:
    """The record id a listed missing mark belongs to; None for any other key."""
    return _id_in(key, missing_prefix(site))


def file_key(site: str, record_id: str, file_name: str) -> str:
    """`files/<site>/<record id's key part>/<file name>`; an unsafe file name is replaced
    by the record's fallback name (`<record id>.pdf`)."""
    name = safe_file_name(file_name, fallback_file_name(record_id))
    return f"{files_prefix(site, record_id)}{name}"


def file_version_key(site: str, record_id: str, file_sha256: str, file_name: str) -> str:
    """Where a stored file's earlier bytes are kept when a changed record's file replaces
    them: `versions/<site>/<record id's key part>/files/<their sha256>/<file name>`."""
    _check_hex(file_sha256)
    name = safe_file_name(file_name, fallback_file_name(record_id))
    return f"{versions_prefix(site, record_id)}{FILE_VERSIONS}{file_sha256}/{name}"


def file_version_sha(key: str) -> str:
    """The sha256 a kept file's key carries (`.../files/<sha256>/<name>` under versions/);
    "" for any other key, a record version's among them."""
    parts = key.rsplit("/", 3)
    if len(parts) == 4 and parts[1] + "/" == FILE_VERSIONS and _SHA256_RE.fullmatch(parts[2]):
        return parts[2]
    return ""


def run_report_key(site: str, run_id: str) -> str:
    return f"{runs_prefix(site)}{check_run_id(run_id)}.json"


def changes_key(site: str, run_id: str) -> str:
    return f"{runs_prefix(site)}{check_run_id(run_id)}{CHANGES_SUFFIX}"


def changes_run_id(site: str, key: str) -> str | None:
    """The run id of a listed changes feed `runs/<site>/<run_id>.changes.jsonl`; None for
    any other key."""
    prefix = runs_prefix(site)
    if not (key.startswith(prefix) and key.endswith(CHANGES_SUFFIX)):
        return None
    run_id = key[len(prefix):-len(CHANGES_SUFFIX)]
    return run_id if is_run_id(run_id) else None


def quarantine_key(site: str, url: str, suffix: str) -> str:
    if suffix not in {"json", "html"}:
        raise UnsafeKey(f"unsafe quarantine suffix: {suffix!r}")
    return f"{quarantine_prefix(site)}{url_digest(url)}.{suffix}"


def raw_key(site: str, name: str) -> str:
    if not isinstance(name, str) or not _FILE_NAME_RE.fullmatch(name) or ".." in name:
        raise UnsafeKey(f"unsafe raw capture name: {name!r}")
    return f"{raw_prefix(site)}{name}"


def state_key(site: str, *parts: str) -> str:
    for part in parts:
        if not isinstance(part, str) or not _FILE_NAME_RE.fullmatch(part) or ".." in part:
            raise UnsafeKey(f"unsafe state key part: {part!r}")
    return "/".join(("state", check_site(site), *parts))


def _id_in(key: str, prefix: str) -> str | None:
    """The id of `<prefix><key part>.json`, None when `key` is not one."""
    if not (isinstance(key, str) and key.startswith(prefix) and key.endswith(RECORD_SUFFIX)):
        return None
    try:
        return key_part_to_id(key[len(prefix):-len(RECORD_SUFFIX)])
    except UnsafeKey:  # another object (a folder's key, a stray file): not a record's
        return None


def _check_hex(value: str) -> None:
    if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
        raise UnsafeKey(f"not a sha256 hex digest: {value!r}")
