"""Fixtures of the look-alike campaign: a factory of running look-alike sites."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from lookalike_site import LookalikeSite


@pytest.fixture
def lookalike() -> Iterator[Callable[..., LookalikeSite]]:
    """`lookalike(size=40, markup="grid", ...)` starts a site on 127.0.0.1; stopped after the test."""
    with ExitStack() as stack:
        def start(**kwargs: Any) -> LookalikeSite:
            return stack.enter_context(LookalikeSite(**kwargs))
        yield start
