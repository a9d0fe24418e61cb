"""Fixtures of the sample archive tests: a 60-document archive and a loopback server."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from harvester.sample import SampleArchive, SampleServer


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(
    base_url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None,
    body: bytes | None = None, timeout: float = 10.0,
) -> Reply:
    """One request over a fresh loopback connection (no redirects followed, no proxies)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def archive60() -> SampleArchive:
    return SampleArchive(60)


@pytest.fixture
def server() -> Iterator[SampleServer]:
    """A fresh 60-document server per test (switches and faults change it)."""
    with SampleServer(SampleArchive(60)) as srv:
        yield srv
