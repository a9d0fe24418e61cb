"""The switches of the sample archive's OAI-PMH endpoint (JSON in, as the fault config).

    {"granularity": "day",            # or "seconds" (default): what Identify says; a
                                      # from/until finer than a day is then badArgument
     "page_size": 20,                 # records (headers) a list response holds
     "deleted_record": "persistent",  # or "no": withdrawn documents vanish from the lists
     "forbidden_chars": ["100003"],   # these Record IDs' records (true: every record) carry
                                      # characters XML 1.0 forbids in title and description
     "unavailable": 2,                # the next 2 list requests answered 503 ...
     "retry_after": 2,                # ... with Retry-After: an HTTP date this many s ahead
     "expire_tokens_after": 3}        # after 3 more list requests, every token issued so
                                      # far is refused (null: never)

POSTed to /_sample/oai, the keys given change and the others stay. New, edited and
deleted records come from the archive's own switches (/_sample/publish, /_sample/edit,
/_sample/withdraw and /_sample/restore): the endpoint gives each change a new datestamp.
/_sample/oai/expire-tokens refuses every token issued so far at once;
/_sample/oai/clock?advance=S moves the repository's clock on S seconds. GET /_sample/oai
shows the switches (what is left of the counting ones), the clock, the token epoch, the
OAI-PMH errors answered by code, the 503 answers given (`busy_answers`) and the list
requests that came back before the Retry-After date they were given (`early_retries`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

GRANULARITIES = ("seconds", "day")
DELETED_RECORD = ("persistent", "no")


@dataclass(frozen=True)
class OaiSwitches:
    granularity: str = "seconds"
    page_size: int = 20
    deleted_record: str = "persistent"
    forbidden_chars: tuple[str, ...] = ()  # Record IDs; ("*",): every record
    unavailable: int = 0
    retry_after: int = 2
    expire_tokens_after: int | None = None

    def changed(self, config: Mapping[str, Any]) -> OaiSwitches:
        """These switches with the keys of `config` changed (ValueError for a bad one)."""
        known = {f.name for f in fields(self)}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown OAI switch(es): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(known))}")
        values = dict(config)
        if "forbidden_chars" in values:
            values["forbidden_chars"] = _record_ids(values["forbidden_chars"])
        for name in ("page_size", "unavailable", "retry_after"):
            if name in values:
                values[name] = _count(name, values[name])
        if values.get("expire_tokens_after") is not None:
            values["expire_tokens_after"] = _count("expire_tokens_after",
                                                   values["expire_tokens_after"])
        out = replace(self, **values)
        if out.granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {GRANULARITIES}")
        if out.deleted_record not in DELETED_RECORD:
            raise ValueError(f"deleted_record must be one of {DELETED_RECORD}")
        if out.page_size < 1:
            raise ValueError("page_size must be at least 1")
        return out

    def forbidden_in(self, record_id: int | str) -> bool:
        return "*" in self.forbidden_chars or str(record_id) in self.forbidden_chars

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["forbidden_chars"] = list(self.forbidden_chars)
        return out


def _record_ids(value: Any) -> tuple[str, ...]:
    if value is True:
        return ("*",)
    if value in (False, None):
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    raise ValueError("forbidden_chars: a list of Record IDs, true or false")


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0")
    return value
