"""Resumption tokens of the sample archive's OAI-PMH endpoint.

A token is the list's own arguments and the (datestamp, index) of the last record shown,
as URL-safe base64 of compact JSON: the next page is the records after that one, so a
record that changes during a harvest is met again later, never skipped. Each token carries
the epoch it was issued in; expiring the tokens starts a new epoch and every token issued
before is refused (as after a restart of a repository that keeps its tokens in memory).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass


class BadToken(ValueError):
    """A token this endpoint did not issue, or one that expired."""


@dataclass(frozen=True)
class Token:
    verb: str
    prefix: str
    start: str | None  # the list's from, as asked
    until: str | None
    spec: str | None
    after: tuple[int, int]  # (datestamp, index) of the last record shown
    epoch: int


def encode(token: Token) -> str:
    data = [token.verb, token.prefix, token.start, token.until, token.spec,
            list(token.after), token.epoch]
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str) -> Token:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        verb, prefix, start, until, spec, after, epoch = json.loads(raw)
        token = Token(str(verb), str(prefix), start, until, spec,
                      (int(after[0]), int(after[1])), int(epoch))
    except (binascii.Error, ValueError, TypeError, IndexError, UnicodeDecodeError):
        raise BadToken("not a resumption token of this repository") from None
    for value in (token.start, token.until, token.spec):
        if value is not None and not isinstance(value, str):
            raise BadToken("not a resumption token of this repository")
    return token
