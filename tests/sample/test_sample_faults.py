"""Each fault kind, observed over real HTTP on loopback; faults are deterministic and recover."""

from __future__ import annotations

import http.client
import socket
import time
from urllib.parse import urlsplit

import pytest
from conftest import fetch

from harvester.sample import SampleArchive, SampleServer
from harvester.sample.faults import FaultInjector


def _doc_paths(server: SampleServer, n: int = 10) -> list[str]:
    return [server.archive.document(i).path for i in range(n)]


@pytest.mark.parametrize(("kind", "status"), [("503", 503), ("429", 429), ("500", 500)])
def test_error_statuses_then_recovery(server: SampleServer, kind: str, status: int) -> None:
    server.set_faults({kind: {"rate": 1.0, "times": 2, "paths": "document", "retry_after": 7}})
    path = _doc_paths(server)[0]
    for _ in range(2):
        reply = fetch(server.base_url, path)
        assert reply.status == status
        assert reply.headers.get("retry-after") == (None if kind == "500" else "7")
        assert b'class="content-block"' not in reply.body
    assert fetch(server.base_url, path).status == 200
    assert fetch(server.base_url, "/search?page=0").status == 200  # not a document path
    assert server.stats.snapshot()["faults"] == {kind: 2}


def test_challenge_page(server: SampleServer) -> None:
    server.set_faults({"challenge": {"paths": "document|listing"}})
    reply = fetch(server.base_url, "/search?page=1")
    assert reply.status == 200 and len(reply.body) < 10_000
    text = reply.body.decode()
    assert '<meta http-equiv="refresh"' in text
    assert "triggerInterstitialChallenge()" in text and "/_sec/verify" in text
    assert 'class="content-block"' not in text
    assert b"table-striped" in fetch(server.base_url, "/search?page=1").body


def test_persistent_challenge_for_a_url_set(server: SampleServer) -> None:
    stuck, fine = _doc_paths(server, 2)
    server.set_faults({"challenge": {"urls": [stuck], "always": True}})
    for _ in range(4):
        assert b"triggerInterstitialChallenge" in fetch(server.base_url, stuck).body
    assert b"triggerInterstitialChallenge" not in fetch(server.base_url, fine).body


def test_truncated_body(server: SampleServer) -> None:
    path = _doc_paths(server)[3]
    server.set_faults({"truncate": {"times": 1}})
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        declared = int(resp.getheader("Content-Length"))
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert 0 < len(info.value.partial) < declared
    finally:
        conn.close()
    assert len(fetch(server.base_url, path).body) == declared


def test_slow_response(server: SampleServer) -> None:
    server.set_faults({"slow": {"delay": 0.4, "paths": "listing"}})
    start = time.monotonic()
    assert fetch(server.base_url, "/search?page=0").status == 200
    # a lower bound only (a loaded machine is slower, never faster): the answer waited
    assert time.monotonic() - start >= 0.4
    assert server.stats.snapshot()["faults"] == {"slow": 1}
    assert fetch(server.base_url, "/search?page=0").status == 200
    assert server.stats.snapshot()["faults"] == {"slow": 1}  # recovered: served at once


def test_redirect_to_another_host(server: SampleServer) -> None:
    path = _doc_paths(server)[1]
    server.set_faults({"redirect": {"times": 1}})
    reply = fetch(server.base_url, path)  # not followed: the target must never be contacted
    assert reply.status == 302
    assert reply.headers["location"] == f"http://evil.example.invalid{path}"
    assert fetch(server.base_url, path).status == 200


def test_connection_reset(server: SampleServer) -> None:
    path = _doc_paths(server)[2]
    server.set_faults({"reset": {"times": 1, "paths": "document"}})
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, socket.error)):
        fetch(server.base_url, path)
    assert fetch(server.base_url, path).status == 200
    assert server.stats.snapshot()["faults"] == {"reset": 1}


def test_rate_selects_a_deterministic_share_of_urls() -> None:
    injector = FaultInjector({"503": {"rate": 0.2, "paths": "document"}}, seed=0)
    urls = [f"/document/doc-{n}" for n in range(2000)]
    hit = [u for u in urls if injector.pick(u, "document")]
    assert 300 < len(hit) < 500
    again = FaultInjector({"503": {"rate": 0.2, "paths": "document"}}, seed=0)
    assert [u for u in urls if again.pick(u, "document")] == hit
    assert all(injector.pick(u, "document") is None for u in hit)  # times=1: recovered
    assert injector.pick("/search?page=0", "listing") is None


def test_several_faults_on_one_url_fire_in_turn() -> None:
    injector = FaultInjector({"429": {"times": 1}, "503": {"times": 2}})
    kinds = [getattr(injector.pick("/x", "other"), "kind", None) for _ in range(4)]
    assert kinds == ["503", "503", "429", None]


def test_bad_fault_config_is_refused(server: SampleServer) -> None:
    for config in (b'{"teapot": {}}', b'{"503": {"rate": 1, "bogus": 2}}',
                   b'{"503": {"paths": "nowhere"}}', b"[1]"):
        reply = fetch(server.base_url, "/_sample/faults", method="POST", body=config)
        assert reply.status == 400, config
    with pytest.raises(ValueError):
        SampleServer(SampleArchive(1), faults={"nope": {}})


def test_faults_from_the_constructor_and_download_paths() -> None:
    with SampleServer(SampleArchive(10), faults={"500": {"paths": "download"}}) as srv:
        docs = [srv.archive.document(i) for i in range(10)]
        doc = next(d for d in docs if d.has_download)
        assert fetch(srv.base_url, doc.download_path).status == 500
        assert fetch(srv.base_url, doc.download_path).status == 200
        assert fetch(srv.base_url, doc.path).status == 200
