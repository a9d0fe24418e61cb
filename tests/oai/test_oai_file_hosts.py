"""Files on another host than the endpoint's (a CDN, a bitstream server): downloaded when
the source names the host (--file-host, `file_hosts` in the sources file, "*": any), kept
as links in oai_identifiers otherwise; nothing else of the crawl leaves the endpoint's host.
The other host here is the same look-alike reached as "localhost" (the endpoint is
127.0.0.1): a distinct host name for the harvester, no address beyond loopback."""

from __future__ import annotations

import hashlib
from pathlib import Path

from oai_lookalike import LookalikeServer, Repository
from oai_source_support import cli, harvest, records


def _files_on_localhost(repo: Repository, server: LookalikeServer, ids: list[str]) -> None:
    port = server.url.split(":")[2].split("/")[0]
    for n, rid in enumerate(ids, 1):
        repo.items[rid].extra_xml = (f"<dc:identifier>http://localhost:{port}/files/{n}.pdf"
                                     "</dc:identifier>")


def test_files_on_a_named_host_are_downloaded_with_fixity(tmp_path: Path) -> None:
    repo = Repository(page_size=10)
    ids = repo.add(5)
    with LookalikeServer(repo) as server:
        _files_on_localhost(repo, server, ids)
        run = harvest(server.url, str(tmp_path), "--file-host", "localhost")
        assert run.code == 0, run.stderr[-3000:]
        assert repo.files_served == 5
    got = records(tmp_path)
    assert len(got) == 5
    for n, rid in enumerate(ids, 1):
        (entry,) = got[rid]["files"]
        assert entry["url"].startswith("http://localhost:") and entry["key"]
        body = (tmp_path / entry["key"]).read_bytes()
        assert body == f"%PDF-1.4 look-alike /files/{n}.pdf".encode()
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()


def test_files_on_another_host_stay_links_unless_named(tmp_path: Path) -> None:
    repo = Repository(page_size=10)
    ids = repo.add(3)
    with LookalikeServer(repo) as server:
        _files_on_localhost(repo, server, ids)
        run = harvest(server.url, str(tmp_path))
        assert run.code == 0, run.stderr[-3000:]
        assert repo.files_served == 0
    got = records(tmp_path)
    assert all(rec["files"] == [] for rec in got.values())
    assert all(any("localhost" in u for u in rec["oai_identifiers"]) for rec in got.values())


def test_any_host_from_the_sources_file(tmp_path: Path) -> None:
    repo = Repository(page_size=10)
    ids = repo.add(2)
    with LookalikeServer(repo) as server:
        _files_on_localhost(repo, server, ids)
        (tmp_path / "harvester.toml").write_text(
            f'[sources.cdn]\nkind = "oai"\nendpoint = "{server.url}"\nfile_hosts = ["*"]\n'
            '[sources.cdn.settings]\nDOWNLOAD_DELAY = 0\nAUTOTHROTTLE_ENABLED = false\n'
            'HARVESTER_EXTRACT_WORKERS = 0\n')
        run = cli("harvest", "cdn", "--store", str(tmp_path / "store"), cwd=tmp_path)
        assert run.code == 0, run.stderr[-3000:]
        assert repo.files_served == 2
    got = records(tmp_path / "store", name="cdn")
    assert all(rec["files"][0]["key"] for rec in got.values())
