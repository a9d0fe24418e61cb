"""The extraction worker process (`python -m harvester.extractworker FD`), see extractpool.py.

It imports nothing of the harvester beyond this module until a job names a function (its
module is imported then), so it stays small: ~15 MB with lxml and the Wilson extractor.

Protocol on the socket FD, both ways: frames of a 4-byte big-endian length and a pickle.
The worker first sends (0, True, "ready"); then for each job (id, func, args, kwargs) it
sends (id, True, result) or (id, False, exception), in the order the jobs came. It exits
when the socket closes.
"""

from __future__ import annotations

import pickle
import signal
import socket
import struct
import sys
from typing import Any

HEADER = struct.Struct("!I")
READY = (0, True, "ready")


def frame(message: tuple[Any, ...]) -> bytes:
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def _answer(payload: bytes) -> bytes:
    job_id = -1  # when the job itself cannot be read: the parent takes the oldest job
    try:
        job_id, func, args, kwargs = pickle.loads(payload)
        result: tuple[Any, ...] = (job_id, True, func(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - every error goes back to the caller
        result = (job_id, False, exc)
    try:
        data = frame(result)
        if not result[1]:
            pickle.loads(data[HEADER.size:])  # an error the parent could not rebuild
        return data
    except Exception as exc:  # noqa: BLE001 - an unpicklable result or error
        return frame((job_id, False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def serve(fd: int) -> None:
    """Answer jobs on the socket `fd` until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops us by closing
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    reader = sock.makefile("rb")
    try:
        sock.sendall(frame(READY))
        while True:
            header = reader.read(HEADER.size)
            if len(header) < HEADER.size:
                return
            payload = reader.read(HEADER.unpack(header)[0])
            sock.sendall(_answer(payload))
    except ConnectionError:  # the parent closed its end (with our answer unread): done
        return


def _profiled(fd: int, path: str) -> None:
    """serve() under cProfile (CPU time), the stats written to PATH.PID at the end: where a
    worker's CPU goes in a real crawl (HARVESTER_WORKER_PROFILE=PATH; bench/README.md)."""
    import cProfile
    import os
    import time

    profile = cProfile.Profile(time.process_time)
    try:
        profile.runcall(serve, fd)
    finally:
        profile.dump_stats(f"{path}.{os.getpid()}")


if __name__ == "__main__":  # pragma: no cover - run as a process by ExtractPool
    import os

    if os.environ.get("HARVESTER_WORKER_PROFILE"):
        _profiled(int(sys.argv[1]), os.environ["HARVESTER_WORKER_PROFILE"])
    else:
        serve(int(sys.argv[1]))
