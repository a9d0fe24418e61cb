"""python_lines: how much work a call does, counted the same way on any machine.

Tests bound the work of the extractor with it instead of asserting times (how fast it is
belongs in bench/, measured side by side).
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def python_lines(func: Callable[[], object]) -> int:
    """Lines of Python that func() runs."""
    lines = 0

    def trace(frame: object, event: str, arg: object) -> Callable[..., object]:
        nonlocal lines
        if event == "line":
            lines += 1
        return trace

    before = sys.gettrace()  # a coverage tracer, say: restored after
    sys.settrace(trace)
    try:
        func()
    finally:
        sys.settrace(before)
    return lines
