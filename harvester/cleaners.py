"""Small pure field cleaners, shared by every site: whitespace, dates, URLs, e-mails, charsets."""

from __future__ import annotations

import codecs
import datetime as dt
import re
from urllib.parse import urljoin, urlsplit

# --- whitespace -------------------------------------------------------------------------

# Invisible characters that carry no text: removed outright.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
# C0/C1 control characters (tab/newline/CR handled as whitespace): removed.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Blanks within a line, NBSP and the Unicode spaces included.
_BLANKS = re.compile("[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029\x0c\x0b\x85]")


# Both of the above in one pass (they remove; the order does not matter).
_INVISIBLE_OR_CONTROL = re.compile(f"{_INVISIBLE.pattern}|{_CONTROL.pattern}")


def _clean_chars(text: str) -> str:
    return _INVISIBLE_OR_CONTROL.sub("", text)


def normalize_space(text: str | None) -> str:
    """One line: every run of blanks and line breaks becomes one space; stripped. (str.split()
    splits on what the regex \\s matches, NBSP included, and drops the ends.)"""
    if not text:
        return ""
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        return text  # no blank but single spaces inside, nothing to remove: already one line
    return " ".join(_clean_chars(text).split())


def normalize_lines(text: str | None) -> list[str]:
    """The non-empty lines of `text`, each whitespace-normalised."""
    if not text:
        return []
    text = _BLANKS.sub(" ", _CONTROL.sub("", _LINE_BREAKS.sub("\n", _INVISIBLE.sub("", text))))
    return [line for line in (raw.strip() for raw in text.split("\n")) if line]


def normalize_text(text: str | None) -> str:
    """Multi-line text: lines kept, blanks collapsed within each, empty lines dropped."""
    return "\n".join(normalize_lines(text))


def none_if_empty(text: str | None) -> str | None:
    return text or None


# --- dates ------------------------------------------------------------------------------

# English month names and abbreviations (what calendar.month_name and month_abbr give in the C
# locale, which a Python process keeps unless it sets LC_TIME; tests/test_cleaners.py checks
# them against calendar's): no import of calendar, and of locale with it, at start-up
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
_MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, 1)}
_MONTHS.update({name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, 1)})
_MONTHS["sept"] = 9
_MONTH_RE = "(?P<month>[A-Za-z]{3,9})\\.?"
_DATE_PATTERNS = [
    re.compile(r"^(?P<year>\d{4})-(?P<mnum>\d{1,2})(?:-(?P<day>\d{1,2}))?$"),
    re.compile(rf"^{_MONTH_RE} (?P<day>\d{{1,2}})(?:st|nd|rd|th)?,? (?P<year>\d{{4}})$"),
    re.compile(rf"^(?P<day>\d{{1,2}})(?:st|nd|rd|th)? {_MONTH_RE},? (?P<year>\d{{4}})$"),
    re.compile(rf"^{_MONTH_RE},? (?P<year>\d{{4}})$"),
    re.compile(r"^(?P<year>\d{4})$"),
]


def parse_date(text: str | None) -> str | None:
    """ISO 8601 at the text's precision ("July 1, 1950" -> "1950-07-01", "April 1955" ->
    "1955-04", "1950" -> "1950"); None for unparseable or impossible dates."""
    text = normalize_space(text)
    if not text or len(text) > 40:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return _iso(match.groupdict())
    return None


def _iso(parts: dict[str, str | None]) -> str | None:
    year = int(parts["year"] or 0)
    if year < 1:
        return None
    if parts.get("mnum"):
        month: int | None = int(parts["mnum"] or 0)
    elif parts.get("month"):
        month = _MONTHS.get((parts["month"] or "").lower())
        if month is None:
            return None
    else:
        return f"{year:04d}"
    if not month or not 1 <= month <= 12:
        return None
    if not parts.get("day"):
        return f"{year:04d}-{month:02d}"
    try:
        return dt.date(year, month, int(parts["day"] or 0)).isoformat()
    except ValueError:
        return None


_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


def parse_iso_date(text: str | None) -> str | None:
    """The "Original Uploaded Date" ("2011-11-15", with or without a time) as YYYY-MM-DD;
    falls back to parse_date for a spelled-out date; None when impossible or unparseable."""
    text = normalize_space(text)
    match = _ISO_PREFIX.match(text)
    if match:
        try:
            return dt.date.fromisoformat(match.group(1)).isoformat()
        except ValueError:
            return None
    return parse_date(text)


# --- URLs -------------------------------------------------------------------------------


def absolute_url(base: str, href: str | None) -> str | None:
    """`href` made absolute against `base`; None for empty, javascript:, mailto: and the like."""
    href = normalize_space(href)
    if not href:
        return None
    url = urljoin(base, href)
    if urlsplit(url).scheme not in {"http", "https", "file"}:
        return None
    return url


def strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


# --- Cloudflare e-mail obfuscation ------------------------------------------------------


def decode_cfemail(hex_string: str | None) -> str | None:
    """Decode a Cloudflare `data-cfemail` value: the first byte is the XOR key of the rest."""
    try:
        data = bytes.fromhex(normalize_space(hex_string))
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        decoded = bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoded = normalize_space(decoded)
    return decoded or None


def encode_cfemail(address: str, key: int = 0x5A) -> str:
    """The `data-cfemail` hex string Cloudflare would render for `address` (fixtures, samples)."""
    data = bytes([key]) + bytes(b ^ key for b in address.encode("utf-8"))
    return data.hex()


# --- charsets ---------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BOM_STARTS = tuple(bom for bom, _ in _BOMS)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE
)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None


def declared_charset(body: bytes) -> str | None:
    """The charset a `<meta>` tag declares in the first 4 KB, when it names a known codec."""
    match = _META_CHARSET.search(body[:4096])
    return _codec(match.group(1).decode("ascii")) if match else None


def decode_body(body: bytes, declared: str | None = None) -> str:
    """Text of a fetched page: BOM, then the HTTP (`declared`) or <meta> charset, then strict
    UTF-8, then charset detection (bs4 UnicodeDammit). NUL characters are removed.

    One deliberate exception to "the declaration wins": a body that is valid, non-ASCII UTF-8
    under a single-byte declaration (e.g. "iso-8859-1") is read as UTF-8; such a body is
    mislabelled far more often than it is real Latin-1/Cyrillic text.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace").replace("\x00", "")
    charset = _codec(declared) or declared_charset(body)
    if charset:
        if charset != "utf-8" and not body.isascii() and _single_byte(charset):
            try:
                return body.decode("utf-8").replace("\x00", "")
            except UnicodeDecodeError:
                pass
        try:
            return body.decode(charset).replace("\x00", "")
        except (UnicodeDecodeError, LookupError):
            if charset == "utf-8":  # mostly UTF-8 with a few bad bytes: keep the rest readable
                return body.decode("utf-8", errors="replace").replace("\x00", "")
    try:
        return body.decode("utf-8").replace("\x00", "")
    except UnicodeDecodeError:
        pass
    return _detect(body).replace("\x00", "")


def utf8_text(body: bytes, declared: str | None = None) -> str | None:
    """decode_body's text when it reads the body as strict UTF-8 with nothing removed (no
    BOM, no NUL): then the body itself is that text's UTF-8, and a parser can take the bytes
    as they came. None otherwise (call decode_body)."""
    if body.startswith(_BOM_STARTS) or b"\x00" in body:
        return None
    charset = _codec(declared) or declared_charset(body)
    if charset and charset != "utf-8" and (body.isascii() or not _single_byte(charset)):
        return None  # decode_body reads it with the declared charset
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp", "iso8859", "latin", "koi8", "mac", "windows", "ascii"))


_HIGH_TEXT = re.compile(rb"[^<>]{0,400}[\x80-\xff][^<>]{0,400}")


def _detect(body: bytes) -> str:
    """Detect the charset on the text runs holding non-ASCII bytes only: on a whole page the
    ASCII markup drowns a few lines of e.g. windows-1251 and detectors guess a DOS codepage."""
    from bs4 import UnicodeDammit  # only for undeclared, non-UTF-8 bodies (rare)

    sample = b" ".join(_HIGH_TEXT.findall(body[:1_000_000]))[:200_000]
    dammit = UnicodeDammit(sample or body[:100_000], is_html=not sample)
    encoding = dammit.original_encoding
    if encoding:
        try:
            return body.decode(encoding, errors="replace")
        except LookupError:
            pass
    return body.decode("utf-8", errors="replace")
