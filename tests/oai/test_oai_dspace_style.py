"""A repository written the way DSpace-like servers write their responses, unlike the
look-alike's compact XML: a byte-order mark, an xml-stylesheet processing instruction and a
comment before the root, every OAI-PMH element under an `oai:` prefix, pretty-printed, an
<about> block after each record's metadata, `xml:lang` on titles, tokens with an
expirationDate, handle identifiers (`.../123456789/N`: a "/" in every key) and an
earliestDatestamp of 1970. Through the real CLI with the extraction worker: every record
stored once with its fields, each page guessed ahead and the guess used, then one
incremental run that picks up the edits, additions and a deletion with one list request
and rewrites nothing else."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from oai_lookalike import SEC_FMT, LookalikeServer, Repository
from oai_source_support import feed, harvest, records, reports, snapshot

WORKER = ["-s", "HARVESTER_EXTRACT_WORKERS=1"]
OAI_TAGS = ("Identify", "repositoryName", "baseURL", "protocolVersion", "adminEmail",
            "earliestDatestamp", "deletedRecord", "granularity", "ListRecords", "record",
            "header", "identifier", "datestamp", "setSpec", "metadata", "resumptionToken",
            "error", "ListSets", "set", "setName", "GetRecord", "ListMetadataFormats",
            "metadataFormat", "metadataPrefix", "schema", "metadataNamespace")
_OAI_TAG = re.compile(rf"<(/?)({'|'.join(OAI_TAGS)})([ >/])")


class DSpaceStyle(Repository):
    def _envelope(self, params: dict[str, str], inner: str) -> bytes:
        attrs = "".join(f' {k}="{escape(v)}"' for k, v in params.items())
        inner = _OAI_TAG.sub(r"<\1oai:\2\3", inner.replace("><", ">\n    <"))
        inner = inner.replace("</oai:metadata>", "</oai:metadata><oai:about><provenance "
                              "xmlns=\"http://www.openarchives.org/OAI/2.0/provenance\">"
                              "harvested</provenance></oai:about>")
        inner = inner.replace("<oai:resumptionToken ",
                              '<oai:resumptionToken expirationDate="2099-01-01T00:00:00Z" ')
        inner = inner.replace("<dc:title>", '<dc:title xml:lang="en">')
        text = ('\ufeff<?xml version="1.0" encoding="UTF-8"?>\n'
                '<?xml-stylesheet type="text/xsl" href="static/style.xsl"?>\n'
                "<!-- a DSpace-style response -->\n"
                '<oai:OAI-PMH xmlns:oai="http://www.openarchives.org/OAI/2.0/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation='
                '"http://www.openarchives.org/OAI/2.0/ '
                'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
                f"  <oai:responseDate>{self.now.strftime(SEC_FMT)}</oai:responseDate>\n"
                f"  <oai:request{attrs}>{escape(self.base_url)}</oai:request>\n"
                f"  {inner}\n</oai:OAI-PMH>\n")
        return text.encode("utf-8")


def test_a_dspace_style_repository_backfill_then_one_incremental_run(tmp_path: Path) -> None:
    repo = DSpaceStyle(page_size=25)
    ids = repo.add(240, prefix="123456789", spread=3600)
    repo.earliest = datetime(1970, 1, 1, tzinfo=UTC)
    with LookalikeServer(repo) as server:
        page = repo.answer({"verb": "ListRecords", "metadataPrefix": "oai_dc"})[2]
        assert page.startswith(b"\xef\xbb\xbf<?xml") and b"<oai:about>" in page  # as meant
        run = harvest(server.url, str(tmp_path), *WORKER)
        assert run.code == 0, run.stderr[-3000:]
        got = records(tmp_path)
        assert sorted(got) == sorted(ids)  # every record, once (one file each)
        first = got[ids[0]]
        assert first["title"] == "Record 1" and first["authors"] == ["Archivist, A."]
        assert first["date"] == "1950-07-01"
        assert "<dc:title" in first["oai_metadata"]["oai_dc"]
        stats = reports(tmp_path)[-1]["stats"]
        assert stats["listing/lookahead_made"] == stats["listing/lookahead_used"] \
            >= stats["listing/pages"] - 1  # the prefixed token read off the bytes
        assert "listing/lookahead_wasted" not in stats

        repo.tick(60)
        before = snapshot(tmp_path, "records")
        edited, gone = ids[:3], ids[7]
        for rid in edited:
            repo.edit(rid, f"Revised {rid}")
        new = repo.add(4, prefix="123456789")
        repo.delete(gone)
        repo.tick(5)
        asked = len(repo.list_requests)
        run = harvest(server.url, str(tmp_path), *WORKER)
        assert run.code == 0, run.stderr[-3000:]
        assert len(repo.list_requests) - asked == 1  # the changes fit one page
        got = records(tmp_path)
        assert sorted(got) == sorted(ids + new)
        assert [got[rid]["title"] for rid in edited] == [f"Revised {rid}" for rid in edited]
        assert got[gone]["status"] == "withdrawn"
        lines = feed(tmp_path, reports(tmp_path)[-1]["run_id"])
        assert sorted((line["record_id"], line["change"]) for line in lines) == sorted(
            [(rid, "changed") for rid in edited] + [(rid, "new") for rid in new]
            + [(gone, "withdrawn")])
        after = snapshot(tmp_path, "records")
        rewritten = {k for k in before if after.get(k) != before[k]}
        assert len(rewritten) == len(edited) + 1  # the edited records and the withdrawn one
