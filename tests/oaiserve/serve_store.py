"""A synthetic store for the index and application tests: records and changes feeds written
as a harvest writes them, and an in-process WSGI call of the provider."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

from lxml import etree

from harvester.keys import changes_key, record_key
from harvester.oaiserve.app import OaiApp

OAI = "{http://www.openarchives.org/OAI/2.0/}"
MARC = "http://www.loc.gov/MARC21/slim"


def record(site: str, rid: str, stamp: str, *, type_: str | None = "Telegram",
           status: str = "active", marc: bool = False) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "site": site, "record_id": rid, "url": f"https://example.org/{rid}",
        "title": f"Title of {rid}", "type": type_, "authors": ["Author, A."], "subjects": [],
        "people": [], "places": [], "languages": ["English"], "summary": None, "date": "1950",
        "content_sha256": "0" * 64, "harvested_at": stamp, "status": status,
        "withdrawn_at": stamp if status == "withdrawn" else None,
    }
    if marc:
        rec["oai_metadata"] = {"marcxml": (
            f'<record xmlns="{MARC}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{MARC} http://www.loc.gov/standards/marcxml/schema/'
            f'MARC21slim.xsd"><datafield tag="245"><subfield code="a">{rid}</subfield>'
            f'</datafield></record>')}
    return rec


def put_run(store: Any, site: str, run_id: str, records: list[dict[str, Any]],
            withdrawn: tuple[str, ...] = ()) -> None:
    """Write the records and the run's changes feed (`withdrawn`: ids withdrawn by it)."""
    lines = []
    for rec in records:
        store.put(record_key(site, rec["record_id"]), json.dumps(rec).encode())
        change = "withdrawn" if rec["record_id"] in withdrawn else "new"
        lines.append({"record_id": rec["record_id"], "change": change,
                      "content_sha256": rec["content_sha256"],
                      "key": record_key(site, rec["record_id"]), "url": rec["url"],
                      "title": rec["title"], "run_id": run_id,
                      "harvested_at": rec["withdrawn_at"] or rec["harvested_at"]})
    lines.sort(key=lambda line: line["record_id"])
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    store.put(changes_key(site, run_id), body)


def call(app: OaiApp, args: dict[str, str] | list[tuple[str, str]] | str,
         method: str = "GET") -> tuple[str, bytes]:
    query = args if isinstance(args, str) else urlencode(args)
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": "/oai",
                               "HTTP_HOST": "oai.test", "wsgi.url_scheme": "http"}
    if method == "POST":
        body = query.encode()
        environ.update({"CONTENT_TYPE": "application/x-www-form-urlencoded",
                        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)})
    else:
        environ["QUERY_STRING"] = query.encode().decode("latin-1")
    status: list[str] = []
    body_out = b"".join(app(environ, lambda s, headers: status.append(s)))
    return status[0], body_out


def oai(app: OaiApp, args: dict[str, str] | list[tuple[str, str]] | str,
        method: str = "GET") -> etree._Element:
    status, body = call(app, args, method)
    assert status == "200 OK", body[:300]
    return etree.fromstring(body)


def error_code(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")
