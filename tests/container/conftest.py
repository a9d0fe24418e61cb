"""Fixtures of the container tests (marked `container`): the image built for real by
deploy/docker/build-local.sh (a debootstrap base, wheels for its Python, a build with no
network) and run with `docker run --network host`, so containers reach the loopback
servers of the tests (sample archive, moto's S3, redis-server).

The tests skip, with the reason, only when no container engine answers (`.ci/docker.sh`
installs Docker and starts dockerd). A build that fails is an error, not a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from container_support import (
    BASE_TAG,
    BUILD_LOCAL,
    IMAGE_TAG,
    SIZES,
    engine_unavailable,
    image_size,
)

# the redis-server of the distributed tests, shared rather than written twice
from distributed.conftest import redis_server, redis_url  # noqa: F401


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "container: builds or runs the harvester image (Docker)")


@pytest.fixture(scope="session")
def engine() -> None:
    reason = engine_unavailable()
    if reason:
        pytest.skip(f"no container engine: {reason}")


@pytest.fixture(scope="session")
def image(engine: None) -> Iterator[str]:
    """The harvester image, built once per session: its tag."""
    env = dict(os.environ, PYTHON=sys.executable)  # the wheels come from this venv's pip
    proc = subprocess.run(["bash", str(BUILD_LOCAL), IMAGE_TAG], capture_output=True,
                          text=True, timeout=900, env=env)
    assert proc.returncode == 0, f"build-local.sh failed:\n{proc.stderr[-4000:]}"
    SIZES[IMAGE_TAG] = image_size(IMAGE_TAG)
    SIZES[BASE_TAG] = image_size(BASE_TAG)
    yield IMAGE_TAG


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SIZES:
        terminalreporter.write_sep("-", "container images")
        for tag, size in SIZES.items():
            terminalreporter.write_line(f"{tag}: {size / 1e6:.0f} MB")
