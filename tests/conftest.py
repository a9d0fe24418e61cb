"""Fixtures shared by every test package.

`moto_s3`: one moto S3 server for the session, on 127.0.0.1 with a free port,
spoken to over real HTTP by real boto3. While it runs, the process has fake
AWS credentials and a region in its environment (restored afterwards); the
endpoint is not put in the environment: pass `moto_s3.endpoint_url` (or set
AWS_ENDPOINT_URL yourself, e.g. with monkeypatch, for a subprocess).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIATESTKEY000000000",
    "AWS_SECRET_ACCESS_KEY": "test-secret-not-real",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass
class MotoS3:
    endpoint_url: str
    client: Any  # a boto3 S3 client for the server, shared by the session's tests
    _names: Iterator[int] = field(default_factory=itertools.count)

    def new_bucket(self, prefix: str = "test") -> str:
        """Create a fresh, empty bucket and return its name."""
        name = f"{prefix}-{os.getpid()}-{next(self._names)}"
        self.client.create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    saved = {name: os.environ.get(name) for name in FAKE_ENV}
    os.environ.update(FAKE_ENV)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint_url = f"http://{host}:{port}"
        client = boto3.session.Session().client("s3", endpoint_url=endpoint_url)
        try:
            yield MotoS3(endpoint_url=endpoint_url, client=client)
        finally:
            client.close()
    finally:
        server.stop()
        inner = getattr(server, "_server", None)  # stop() leaves the listening socket open
        if inner is not None:
            inner.server_close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
