from __future__ import annotations

from collections.abc import Iterator

import pytest

from harvester.sample import SampleControl, serve_subprocess


@pytest.fixture
def sample() -> Iterator[tuple[str, SampleControl]]:
    """A fresh 36-document sample archive in a child process: (base_url, control)."""
    with serve_subprocess(size=36) as served:
        yield served
