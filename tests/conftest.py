"""Fixtures shared by every test package.

`moto_s3`: one moto S3 server for the session, on 127.0.0.1 with a free port,
spoken to over real HTTP by real boto3. While it runs, the process has fake
AWS credentials and a region in its environment (restored afterwards); the
endpoint is not put in the environment: pass `moto_s3.endpoint_url` (or set
AWS_ENDPOINT_URL yourself, e.g. with monkeypatch, for a subprocess).

`ceph_rgw`: one throwaway Ceph cluster with its RADOS Gateway for the session
(tests/services/ceph_rgw.py), a real S3 server on loopback, its user holding the same
fake credentials. Tests that need it skip, with the reason, only when it cannot start
(Ceph's Debian packages missing: `.ci/ceph.sh` installs them).

`s3_server`: parametrized over both, "moto" and "ceph": the same `endpoint_url`,
`client` and `new_bucket()` on either.
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
from services.ceph_rgw import CephRGW, CephUnavailable

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


@pytest.fixture(scope="session")
def ceph_rgw(moto_s3: MotoS3) -> Iterator[CephRGW]:
    """Ceph RGW for the session; depends on moto_s3 only for the fake AWS environment."""
    try:
        started = CephRGW.start(access_key=FAKE_ENV["AWS_ACCESS_KEY_ID"],
                                secret_key=FAKE_ENV["AWS_SECRET_ACCESS_KEY"])
        rgw = started.__enter__()
    except CephUnavailable as exc:
        pytest.skip(f"Ceph RGW cannot start here: {exc}")
    try:
        yield rgw
    finally:
        started.__exit__(None, None, None)


@pytest.fixture(params=["moto", "ceph"])
def s3_server(request: pytest.FixtureRequest) -> Any:
    """An S3 server: moto's, then Ceph's RGW (same endpoint_url, client, new_bucket)."""
    return request.getfixturevalue("moto_s3" if request.param == "moto" else "ceph_rgw")
