"""Lookahead: a chain of listing pages fetched one page ahead of its parse.

A chained listing (OAI-PMH's resumption tokens) cannot ask for page N+1 before page N is
read, and reading it (the extraction worker's parse, then the walk's step) takes about as
long as the repository takes to answer. A source that can tell its next step cheaply from
the raw bytes (`Source.peek_next(cursor, body)`: OAI-PMH's resumptionToken off the
response's last bytes) lets the spider ask for it at once, as a *guess*, while page N is
parsed; the guess's response then waits here until page N's step is known:

- the step's one next request is the guess's (same URL, method and body): the guess stands
  in for it (its response goes on with the step's real cursor and carry, as if the step had
  asked for it), and nothing else is asked;
- anything else (another URL, several branches, the walk's end or a stop, an error): the
  guess is *wasted*, its response dropped unread, and the step's own requests go out as
  they would have.

So the walk's order, its cursors, checkpoints and stops are the ones it has without the
lookahead: only when page N+1 is fetched changes. A chain is at most one page ahead (a
guess's own guess is made after its step is settled), and after `max_wasted` wasted
guesses in a run no more are made (a source whose guesses keep missing costs at most that
many requests).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

MAX_WASTED = 3


@dataclass
class _Guess:
    url: str
    method: str
    body: bytes
    settled: asyncio.Future[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class Lookahead:
    max_wasted: int = MAX_WASTED
    made: int = 0  # guesses asked for
    used: int = 0  # guesses that stood in for their step's request
    wasted: int = 0  # guesses dropped
    _guesses: dict[int, _Guess] = field(default_factory=dict)
    _keys: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def enabled(self) -> bool:
        return self.wasted < self.max_wasted

    def guess(self, request: Any) -> int:
        """A guessed request is about to be asked for; its key (for `settle` and `wait`)."""
        key = next(self._keys)
        self._guesses[key] = _Guess(request.url, request.method, request.body)
        self.made += 1
        return key

    def settle(self, key: int | None, requests: list[Any]) -> list[Any]:
        """The step that made guess `key` is read and would ask for `requests` next: what it
        still has to ask for ([] when the guess stands in for its one request). The guess's
        response goes on with the request's meta."""
        guess = self._guesses.get(key) if key is not None else None
        if guess is None or guess.settled.done():
            return requests
        if len(requests) == 1 and _same(guess, requests[0]):
            self.used += 1
            guess.settled.set_result(dict(requests[0].meta))
            return []
        self._drop(guess)
        return requests

    def abandon(self, key: int | None) -> None:
        """The step that made guess `key` asks for nothing more (its walk ends or stops
        here, or its callback failed): the guess is wasted. A no-op once settled."""
        guess = self._guesses.get(key) if key is not None else None
        if guess is not None and not guess.settled.done():
            self._drop(guess)

    async def wait(self, key: int) -> dict[str, Any] | None:
        """The guess's response (or failure) is in: the meta of the request it stands in
        for, once its step is settled; None when the guess is wasted (or unknown)."""
        guess = self._guesses.get(key)
        if guess is None:
            return None
        try:
            return await asyncio.shield(guess.settled)
        finally:
            self._guesses.pop(key, None)

    def _drop(self, guess: _Guess) -> None:
        self.wasted += 1
        guess.settled.set_result(None)


def _same(guess: _Guess, request: Any) -> bool:
    return guess.url == request.url and guess.method == request.method \
        and guess.body == request.body
