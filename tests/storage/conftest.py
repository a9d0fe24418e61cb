"""Fixtures of the storage tests: both back-ends, dead endpoints, a fault-injecting S3 front."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from storage_support import FaultyFront, make_s3_store

from pipelines.storage.base import Store
from pipelines.storage.local import LocalStore


@dataclass
class Backend:
    """A store under test and a look at what it really wrote, outside of the store's API."""

    name: str
    store: Store
    raw_names: Callable[[], list[str]]  # every object/file the back-end holds, full names
    outside_root: str  # what every raw name starts with when nothing was written outside


@pytest.fixture(params=["local", "s3", "ceph"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The local store, S3 on moto's server (behind a front that serializes its requests),
    and S3 on Ceph's RADOS Gateway (spoken to directly: its If-None-Match is atomic)."""
    if request.param == "local":
        root = tmp_path / "root"
        store = LocalStore(root)

        def local_names() -> list[str]:
            return sorted(p.relative_to(tmp_path).as_posix()
                          for p in tmp_path.rglob("*") if not p.is_dir())

        yield Backend("local", store, local_names, "root/")
        return
    if request.param == "ceph":
        server = request.getfixturevalue("ceph_rgw")
        bucket = server.new_bucket()
        front = None
        s3 = make_s3_store(server.endpoint_url, bucket, "p/inner")
    else:
        server = request.getfixturevalue("moto_s3")
        bucket = server.new_bucket()
        front = FaultyFront(server.endpoint_url, serialize=True)  # S3's atomic If-None-Match
        s3 = make_s3_store(front.url, bucket, "p/inner")
    client = server.client

    def s3_names() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    try:
        yield Backend(request.param, s3, s3_names, "p/inner/")
    finally:
        s3.close()
        if front is not None:
            front.close()


@pytest.fixture
def refused_url() -> str:
    """An http://127.0.0.1 URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """An http://127.0.0.1 URL that accepts connections and never answers (read timeout)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def faulty_front(moto_s3: Any) -> Iterator[FaultyFront]:
    front = FaultyFront(moto_s3.endpoint_url)
    try:
        yield front
    finally:
        front.close()
