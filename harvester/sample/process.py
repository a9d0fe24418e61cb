"""serve_subprocess: the sample server in a child process (no GIL shared with the crawler)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

from harvester.sample.control import SampleControl


def serve_command(
    size: int = 50,
    seed: int = 0,
    *,
    port: int = 0,
    crawl_delay: float | None = None,
    faults: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[str]:
    """The command line that serves a sample archive (first stdout line: its base URL)."""
    cmd = [sys.executable, "-m", "harvester.sample", "serve", "--size", str(size),
           "--seed", str(seed), "--port", str(port)]
    if crawl_delay is not None:
        cmd += ["--crawl-delay", repr(float(crawl_delay))]
    if faults:
        cmd += ["--faults", json.dumps(dict(faults))]
    return cmd


def _first_line(stream: IO[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@contextmanager
def serve_subprocess(
    size: int = 50,
    seed: int = 0,
    *,
    port: int = 0,
    crawl_delay: float | None = None,
    faults: Mapping[str, Mapping[str, Any]] | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[tuple[str, SampleControl]]:
    """Start `python -m harvester.sample serve` and yield (base_url, SampleControl)."""
    cmd = serve_command(size, seed, port=port, crawl_delay=crawl_delay, faults=faults)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        line = _first_line(proc.stdout, startup_timeout).strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"sample server did not start (exit {proc.poll()}): {line!r}")
        control = SampleControl(line)
        yield line, control
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
