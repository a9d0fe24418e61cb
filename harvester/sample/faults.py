"""Deterministic, recoverable fault injection for the sample server.

Config (JSON): one rule per fault kind,

    {"503": {"rate": 0.2, "times": 2, "paths": "document", "retry_after": 1},
     "challenge": {"urls": ["/document/some-slug"], "always": true},
     "slow": {"rate": 0.1, "delay": 0.5, "paths": "listing|download"},
     "scripted": {"urls": ["/search?page=1"], "always": true}}

("scripted": a listing page drawn by script, its results count kept but no links in the
HTML, as a site whose markup changed under the harvester.)

A rule selects a URL (path with query) when the URL is in `urls`, or else when
its request kind is in `paths` and hash(seed, kind, URL) < `rate`. A selected
URL gets the fault on its first `times` requests, then is served normally; with
`always` it gets the fault forever. When several rules select a URL they fire
one after the other, in FAULT_KINDS order.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

FAULT_KINDS = ("503", "429", "500", "challenge", "truncate", "slow", "redirect", "reset",
               "scripted")

# names usable in "paths" -> request kinds (see routes.REQUEST_KINDS)
PATH_GROUPS: dict[str, frozenset[str]] = {
    "document": frozenset({"document", "node", "redirect"}),
    "listing": frozenset({"listing"}),
    "download": frozenset({"download", "preview"}),
    "node": frozenset({"node"}),
    "preview": frozenset({"preview"}),
    "robots": frozenset({"robots"}),
    "other": frozenset({"other"}),
}


@dataclass(frozen=True)
class FaultRule:
    kind: str
    rate: float = 1.0  # share of the URLs of the selected kinds that get the fault
    times: int = 1  # requests of a selected URL that get the fault before it recovers
    paths: str = "all"  # "all" or "|"-separated names of PATH_GROUPS
    always: bool = False  # never recover
    urls: tuple[str, ...] = ()  # exact URLs (path?query) to select instead of `rate`
    retry_after: int = 1  # seconds, for 503 and 429
    delay: float = 1.0  # seconds, for slow
    location: str = "http://evil.example.invalid"  # redirect target host (path appended)

    @classmethod
    def from_json(cls, kind: str, spec: Mapping[str, Any]) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        known = {f.name for f in fields(cls)} - {"kind"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault option(s) for {kind}: {', '.join(sorted(unknown))}")
        values = dict(spec)
        if "urls" in values:
            values["urls"] = tuple(values["urls"])
        rule = cls(kind=kind, **values)
        for name in rule.paths.split("|"):
            if name != "all" and name not in PATH_GROUPS:
                raise ValueError(f"unknown path group {name!r} in fault {kind}")
        return rule

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("kind")
        out["urls"] = list(self.urls)
        return out

    def selects(self, url: str, request_kind: str, seed: int) -> bool:
        if self.urls:
            return url in self.urls or url.split("?", 1)[0] in self.urls
        groups = self.paths.split("|")
        if "all" not in groups and not any(request_kind in PATH_GROUPS[g] for g in groups):
            return False
        return _unit(f"{seed}:{self.kind}:{url}") < self.rate


def _unit(text: str) -> float:
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultInjector:
    """Holds the fault rules and how often each URL has had each fault."""

    def __init__(self, config: Mapping[str, Mapping[str, Any]] | None = None, seed: int = 0):
        self.seed = seed
        self._lock = threading.Lock()
        self._rules: tuple[FaultRule, ...] = ()
        self._hits: dict[tuple[str, str], int] = {}
        self.configure(config or {})

    def configure(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace every rule (an empty config clears faults) and forget past hits."""
        rules = [FaultRule.from_json(kind, spec) for kind, spec in config.items()]
        rules.sort(key=lambda r: FAULT_KINDS.index(r.kind))
        with self._lock:
            self._rules = tuple(rules)
            self._hits = {}

    def config(self) -> dict[str, dict[str, Any]]:
        return {rule.kind: rule.to_json() for rule in self._rules}

    def pick(self, url: str, request_kind: str) -> FaultRule | None:
        """The fault this request gets (and count it), or None to serve it normally."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if not rule.selects(url, request_kind, self.seed):
                    continue
                hits = self._hits.get((rule.kind, url), 0)
                if rule.always or hits < rule.times:
                    self._hits[(rule.kind, url)] = hits + 1
                    return rule
        return None
