"""The server in a child process (serve_subprocess), and the dump command."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import fetch
from sample_reference import parse

from harvester.sample import SampleArchive, serve_subprocess
from harvester.sample.__main__ import main
from harvester.sample.process import serve_command


def test_serve_subprocess_with_options_and_control() -> None:
    faults = {"503": {"urls": ["/search?page=1"], "times": 1}}
    with serve_subprocess(size=25, seed=4, crawl_delay=0.5, faults=faults) as (base_url, control):
        assert base_url.startswith("http://127.0.0.1:")
        assert "Crawl-delay: 0.5" in fetch(base_url, "/robots.txt").body.decode()
        assert fetch(base_url, "/search?page=1").status == 503
        assert fetch(base_url, "/search?page=1").status == 200
        local = SampleArchive(25, seed=4)
        page = fetch(base_url, f"/document/{local.slug(24)}")
        assert parse(page.body)["record_id"] == local.record_ids()[24]
        new = control.publish(2)
        assert control.state()["size"] == 27
        assert control.archive().expected_for(new[0])["record_id"] == new[0]
        stats = control.stats()
        assert stats["by_kind"]["listing"] == 2 and stats["faults"] == {"503": 1}


def test_serve_command_line() -> None:
    cmd = serve_command(100, 2, port=8080, crawl_delay=1, faults={"500": {"rate": 0.1}})
    assert cmd[1:] == ["-m", "harvester.sample", "serve", "--size", "100", "--seed", "2",
                       "--port", "8080", "--crawl-delay", "1.0", "--faults",
                       '{"500": {"rate": 0.1}}']


def test_dump_writes_pages_and_expected_records(tmp_path: Path, capsys: object) -> None:
    assert main(["dump", "--size", "30", "--first", "3", "--out", str(tmp_path)]) == 0
    pages = sorted((tmp_path / "pages").iterdir())
    assert len(pages) == 3
    for page in pages:
        record = json.loads((tmp_path / "expected" / f"{page.stem}.json").read_text("utf-8"))
        got = parse(page.read_bytes())
        lifecycle = {"date", "status", "withdrawn_at"}  # not on the page: the harvester's
        assert {k: v for k, v in record.items() if k not in lifecycle} == got
