"""run_workers: `harvester harvest SITE --redis URL --workers N` as N local worker processes.

Each worker is `python -m harvester.cli harvest SITE` with the parent's command-line
settings (its flags and -s overrides) and HARVESTER_WORKERS=1; the environment is
inherited. SIGTERM is passed on to the workers (SIGINT from a terminal reaches them
directly: they share the parent's process group). The exit status is 0 when every
worker finished, else the first failing worker's status.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)

_SCALARS = (str, int, float, bool)


def command_line_settings(settings: Any) -> dict[str, str]:
    """The settings given on the command line (flags and -s), as NAME=VALUE strings."""
    from scrapy.settings import SETTINGS_PRIORITIES

    cmdline = SETTINGS_PRIORITIES["cmdline"]
    out = {}
    for name, attribute in settings.attributes.items():
        if attribute.priority < cmdline or name == "HARVESTER_WORKERS":
            continue
        if not isinstance(attribute.value, _SCALARS):
            raise ValueError(f"setting {name} cannot be passed to a worker process")
        out[name] = str(attribute.value)
    return out


def worker_command(site: str, settings: Any) -> list[str]:
    cmd = [sys.executable, "-m", "harvester.cli", "harvest", site]
    for name, value in sorted(command_line_settings(settings).items()):
        cmd += ["-s", f"{name}={value}"]
    return [*cmd, "-s", "HARVESTER_WORKERS=1"]


def run_workers(site: str, settings: Any, count: int) -> int:
    return run_commands([worker_command(site, settings)] * count)


def run_commands(commands: Sequence[Sequence[str]]) -> int:
    import os

    env = dict(os.environ, HARVESTER_WORKERS="1")
    procs = [subprocess.Popen(list(cmd), env=env) for cmd in commands]

    def forward(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGTERM:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        codes = [proc.wait() for proc in procs]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    status = 0
    for n, code in enumerate(codes, 1):
        if code != 0:
            print(f"harvester harvest: worker {n} of {len(codes)} (pid {procs[n - 1].pid}) "
                  f"exited with status {code}", file=sys.stderr)
            status = status or (code if code > 0 else 1)
    return status
