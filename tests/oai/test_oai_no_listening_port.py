"""An unattended harvest opens no listening port: Scrapy's telnet console and its remote
control HTTP server (on by default since Scrapy 2.14, a localhost port that runs code sent
with its token) are off in the harvester's settings; a user may still turn either on."""

from __future__ import annotations

from pathlib import Path

import pytest
from oai_lookalike import LookalikeServer, Repository
from oai_source_support import harvest, records

LISTENING = "Remote control HTTP server listening"


@pytest.mark.parametrize("asked", [None, "True"])
def test_a_harvest_opens_no_remote_control_port_unless_asked(tmp_path: Path,
                                                             asked: str | None) -> None:
    repo = Repository(page_size=10)
    ids = repo.add(5)
    extra = ["-s", "LOG_LEVEL=INFO"]
    if asked:
        extra += ["-s", f"REMOTE_CONTROL_ENABLED={asked}"]
    with LookalikeServer(repo) as server:
        run = harvest(server.url, str(tmp_path), *extra)
    assert run.code == 0, run.stderr[-3000:]
    assert sorted(records(tmp_path)) == sorted(ids)
    log = run.stdout + run.stderr
    assert "Enabled extensions" in log  # the log that would name it was written
    if asked:
        assert LISTENING in log and "RemoteControl" in log
    else:
        assert LISTENING not in log and "RemoteControl" not in log
        assert "TelnetConsole" not in log
