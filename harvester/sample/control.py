"""SampleControl: a client of the sample server's /_sample/ control endpoints (loopback only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from harvester.sample.corpus import SampleArchive

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ControlError(RuntimeError):
    """A control request failed (the server's message is in the text)."""


class SampleControl:
    """Drives a sample server in this or another process over HTTP."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        host = urlsplit(base_url).hostname
        if host not in _LOOPBACK:
            raise ValueError(f"the sample server must be on loopback, not {host!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # no proxies: control traffic never leaves the machine
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _call(self, method: str, name: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_sample/{name}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read().decode("utf-8", "replace").strip()
            raise ControlError(f"{method} /_sample/{name}: {exc.code} {detail}") from None

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "health"))

    def stats(self) -> dict[str, Any]:
        return dict(self._call("GET", "stats"))

    def reset_stats(self) -> None:
        self._call("POST", "reset-stats", {})

    def set_faults(self, config: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        return dict(self._call("POST", "faults", dict(config)))

    def clear_faults(self) -> None:
        self._call("POST", "faults", {})

    def faults(self) -> dict[str, Any]:
        return dict(self._call("GET", "faults"))

    def publish(self, k: int = 1) -> list[str]:
        return list(self._call("POST", f"publish?k={int(k)}", {})["record_ids"])

    def edit(self, record_id: int | str, replace_files: bool = False) -> int:
        files = "&files=1" if replace_files else ""
        return int(self._call("POST", f"edit?record_id={quote(str(record_id))}{files}",
                              {})["version"])

    def set_listing(self, **style: Any) -> dict[str, Any]:
        """Draw the listing another way: markup, featured, max_per_page, default_per_page,
        default_newest_first (see harvester.sample.listing_render.ListingStyle)."""
        return dict(self._call("POST", "listing", style))

    def withdraw(self, record_id: int | str, status: int = 404) -> None:
        """Take a document out of the listing; its page answers `status`: 404, 410, 200 (a
        soft 404) or 301 (a redirect to the search page)."""
        self._call("POST", f"withdraw?record_id={quote(str(record_id))}&status={int(status)}",
                   {})

    def restore(self, record_id: int | str) -> None:
        self._call("POST", f"restore?record_id={quote(str(record_id))}", {})

    def break_site(self, status: int = 404, paths: str = "document") -> None:
        """Every document page ("document") or every page but robots.txt ("all") answers
        `status` until mend_site()."""
        self._call("POST", f"break?status={int(status)}&paths={quote(paths)}", {})

    def mend_site(self) -> None:
        self._call("POST", "mend", {})

    def set_crawl_delay(self, delay: float | None) -> None:
        value = "" if delay is None else repr(float(delay))
        self._call("POST", f"crawl-delay?value={value}", {})

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "state"))

    def archive(self) -> SampleArchive:
        """A local copy of the served archive's content (for ground truth)."""
        return SampleArchive.from_state(self.state())

    def oai(self) -> dict[str, Any]:
        """The OAI-PMH endpoint's switches (what is left of the counting ones), its clock
        and token epoch."""
        return dict(self._call("GET", "oai"))

    def set_oai(self, **switches: Any) -> dict[str, Any]:
        """Change switches of the OAI-PMH endpoint (/oai): granularity, page_size,
        deleted_record, forbidden_chars, unavailable, retry_after, expire_tokens_after (see
        harvester.sample.oai_switches); the others stay."""
        return dict(self._call("POST", "oai", switches))

    def expire_oai_tokens(self) -> int:
        """Every resumption token issued so far is refused; the new token epoch."""
        return int(self._call("POST", "oai/expire-tokens", {})["token_epoch"])

    def advance_oai_clock(self, seconds: int) -> str:
        """The OAI-PMH clock moves on (later changes get later datestamps); the new clock."""
        return str(self._call("POST", f"oai/clock?advance={int(seconds)}", {})["clock"])

    def expected(self, record_id: int | str, files_base: str | None = None) -> dict[str, Any]:
        query = f"?files_base={quote(files_base, safe='')}" if files_base else ""
        return dict(self._call("GET", f"expected/{quote(str(record_id))}{query}"))
