"""Stateless resumption tokens: the request's query, its position and the index's identity,
signed, so any provider reading the same store answers them (after a restart, or a second
server behind a load balancer) and nothing is kept between requests.

    <base64url of the JSON state>.<HMAC-SHA256 of it, 32 hex digits>

The state: verb, metadata prefix, set, from/until, the sort key (datestamp, source, record
id) of the last item sent, the cursor, the list's size, and the index's lineage and
generation. The position is a key, not an offset: when records change between two pages
they move to their new datestamps (sent again later, within `until`), none is skipped.
A token of another index (rebuilt, or another store) or one that was altered is a
badResumptionToken. The key is HARVESTER_OAI_TOKEN_SECRET, else the index's lineage id
(every provider of one store agrees on it without configuration).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any


class BadToken(Exception):
    """A resumption token this repository did not issue, or no longer answers."""


@dataclass(frozen=True)
class TokenState:
    verb: str
    prefix: str
    set_spec: str | None
    start: str | None
    end: str | None
    after: tuple[str, str, str]
    cursor: int
    size: int
    lineage: str
    generation: int


def _key(secret: str, lineage: str) -> bytes:
    return hashlib.sha256(f"oai-token\0{secret or lineage}".encode()).digest()


def encode(state: TokenState, secret: str = "") -> str:
    body = json.dumps({
        "v": 1, "verb": state.verb, "p": state.prefix, "s": state.set_spec, "f": state.start,
        "u": state.end, "a": list(state.after), "c": state.cursor, "n": state.size,
        "l": state.lineage, "g": state.generation,
    }, separators=(",", ":"), ensure_ascii=False).encode()
    text = base64.urlsafe_b64encode(body).decode().rstrip("=")
    mac = hmac.new(_key(secret, state.lineage), text.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{text}.{mac}"


def decode(token: str, *, lineage: str, secret: str = "") -> TokenState:
    """The state of a token issued by this index; BadToken otherwise."""
    text, _, mac = token.partition(".")
    if not text or len(mac) != 32 or len(token) > 4096:
        raise BadToken("not a resumption token of this repository")
    expected = hmac.new(_key(secret, lineage), text.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac, expected):
        raise BadToken("the resumption token is not valid here (altered, or issued by "
                       "another or an earlier, rebuilt index)")
    try:
        value: Any = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        after = tuple(str(x) for x in value["a"])
        if value.get("v") != 1 or len(after) != 3 or value["l"] != lineage:
            raise ValueError("version or lineage")
        return TokenState(verb=str(value["verb"]), prefix=str(value["p"]),
                          set_spec=value["s"], start=value["f"], end=value["u"],
                          after=after,
                          cursor=int(value["c"]), size=int(value["n"]), lineage=str(value["l"]),
                          generation=int(value["g"]))
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadToken("the resumption token cannot be read") from exc
