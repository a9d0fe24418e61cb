"""Control endpoints of the sample server, under /_sample/ (JSON in, JSON out).

    GET  /_sample/health                 {"ok": true, "size": N}
    GET  /_sample/stats                  request and fault counts (see stats.RequestStats)
    POST /_sample/reset-stats            zero the counts
    GET  /_sample/faults                 the fault rules in force
    POST /_sample/faults                 body: fault config (see faults); {} clears faults
    POST /_sample/publish?k=N            N new uploads -> {"record_ids": [...]}
    POST /_sample/edit?record_id=R       edit a record -> {"record_id": R, "version": n}
                                         (&files=1: its PDFs get new bytes too)
    POST /_sample/withdraw?record_id=R&status=404|410   out of the listing, its page answers it
    POST /_sample/restore?record_id=R    a withdrawn document back (listed, page answers)
    POST /_sample/break?status=404&paths=document|all   every such page answers the status
    POST /_sample/mend                   undo break
    POST /_sample/crawl-delay?value=D    robots.txt Crawl-delay (empty value: none)
    GET  /_sample/listing                how the listing is drawn (listing_render.ListingStyle)
    POST /_sample/listing                body: {"markup": "views", "featured": true, ...}
    GET  /_sample/state                  archive state (SampleArchive.from_state) + crawl_delay
    GET  /_sample/expected/R[?files_base=URL]   ground-truth record of Record ID R
    GET  /_sample/oai                    the OAI-PMH endpoint's switches, clock, token epoch
    POST /_sample/oai                    body: switches to change (see oai_switches)
    POST /_sample/oai/expire-tokens      every resumption token issued so far is refused
    POST /_sample/oai/clock?advance=S    the OAI-PMH clock moves on S seconds
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from harvester.sample.listing_render import ListingStyle

if TYPE_CHECKING:
    from harvester.sample.server import SampleServer

_MUTATING = {"reset-stats", "publish", "edit", "crawl-delay", "withdraw", "restore", "break",
             "mend", "oai/expire-tokens", "oai/clock"}


def handle_control(server: SampleServer, method: str, url: str, body: bytes) -> tuple[int, bytes]:
    parts = urlsplit(url)
    name = parts.path[len("/_sample/"):].strip("/")
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    try:
        status, payload = _dispatch(server, method, name, query, body)
    except KeyError as exc:  # no such record
        status, payload = 404, {"error": f"not found: {exc.args[0] if exc.args else exc}"}
    except (ValueError, TypeError) as exc:
        status, payload = 400, {"error": str(exc)}
    return status, (json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8")


def _dispatch(
    server: SampleServer, method: str, name: str, query: dict[str, str], body: bytes
) -> tuple[int, Any]:
    if (name in _MUTATING or (name == "faults" and method == "POST")) and method != "POST":
        return 405, {"error": f"use POST for /_sample/{name}"}
    if name == "oai" or name.startswith("oai/"):
        return _oai(server, method, name, query, body)
    if name == "health":
        return 200, {"ok": True, "size": server.archive.size}
    if name == "stats":
        return 200, server.stats.snapshot()
    if name == "reset-stats":
        server.reset_stats()
        return 200, {"ok": True}
    if name == "faults":
        if method == "POST":
            config = json.loads(body or b"{}")
            if not isinstance(config, dict):
                raise ValueError("fault config must be a JSON object")
            server.set_faults(config)
        return 200, server.faults.config()
    if name == "listing":
        if method == "POST":
            server.set_listing(ListingStyle(**json.loads(body or b"{}")))
        return 200, asdict(server.listing)
    if name == "publish":
        return 200, {"record_ids": server.publish(int(query.get("k", "1")))}
    if name == "edit":
        record_id = query.get("record_id")
        if not record_id:
            raise ValueError("record_id is required")
        replace_files = query.get("files", "") in ("1", "true", "yes")
        return 200, {"record_id": record_id, "version": server.edit(record_id, replace_files)}
    if name in ("withdraw", "restore"):
        record_id = query.get("record_id")
        if not record_id:
            raise ValueError("record_id is required")
        if name == "withdraw":
            server.withdraw(record_id, int(query.get("status", "404")))
        else:
            server.restore(record_id)
        return 200, {"record_id": record_id, "withdrawn": server.archive.withdrawn()}
    if name == "break":
        server.break_site(int(query.get("status", "404")), query.get("paths", "document"))
        return 200, {"broken": list(server.archive.broken or ())}
    if name == "mend":
        server.mend_site()
        return 200, {"broken": None}
    if name == "crawl-delay":
        value = query.get("value", "")
        server.crawl_delay = float(value) if value else None
        server.archive.generation += 1  # robots.txt changes
        return 200, {"crawl_delay": server.crawl_delay}
    if name == "state":
        return 200, {**server.archive.state(), "crawl_delay": server.crawl_delay}
    if name.startswith("expected/"):
        record_id = name.split("/", 1)[1]
        files_base = query.get("files_base")
        if files_base:
            return 200, server.archive.expected_for(record_id, files_base)
        return 200, server.archive.expected_for(record_id)
    return 404, {"error": f"unknown control endpoint /_sample/{name}"}


def _oai(server: SampleServer, method: str, name: str, query: dict[str, str], body: bytes
         ) -> tuple[int, Any]:
    if name == "oai":
        if method == "POST":
            config = json.loads(body or b"{}")
            if not isinstance(config, dict):
                raise ValueError("OAI switches must be a JSON object")
            return 200, server.oai.configure(config)
        return 200, server.oai.state()
    if name == "oai/expire-tokens":
        return 200, {"token_epoch": server.oai.expire_tokens()}
    if name == "oai/clock":
        return 200, {"clock": server.oai.advance_clock(int(query.get("advance", "0")))}
    return 404, {"error": f"unknown control endpoint /_sample/{name}"}
