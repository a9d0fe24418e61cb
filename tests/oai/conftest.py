"""Fixtures of the OAI-PMH source tests: the look-alike repository on loopback and the real
`harvester harvest oai` CLI run against it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oai_lookalike import LookalikeServer, Repository


def _distributed_fixtures() -> Any:
    """The Redis fixtures of tests/distributed (a real redis-server), shared, not copied."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "distributed" / "conftest.py"
    spec = importlib.util.spec_from_file_location("oai_distributed_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_redis = _distributed_fixtures()
redis_server = _redis.redis_server
redis_url = _redis.redis_url


@pytest.fixture
def repo() -> Repository:
    return Repository(page_size=10)


@pytest.fixture
def server(repo: Repository) -> Iterator[LookalikeServer]:
    with LookalikeServer(repo) as srv:
        yield srv
