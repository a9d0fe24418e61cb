"""Fixtures of the distributed tests: a real redis-server on a free loopback port.

The server runs for the session (no persistence, in a temporary folder); `redis_url`
hands each test an empty database. `.ci/run` / `make services` install redis-server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server of this session: redis://127.0.0.1:PORT."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    assert Path(binary).exists(), "redis-server is missing: `make services` installs it"
    folder = tmp_path_factory.mktemp("redis")
    for _attempt in range(3):
        port = _free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
        ready = False
        deadline = time.monotonic() + 10
        while not ready and time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = bool(client.ping())
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        if ready:
            break
        proc.kill()  # the port was taken meanwhile: try another
        proc.wait()
    else:
        raise RuntimeError("redis-server did not start")
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """An empty Redis database: redis://127.0.0.1:PORT/0."""
    client = redis.Redis.from_url(f"{redis_server}/0")
    client.flushdb()
    client.close()
    yield f"{redis_server}/0"


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()
