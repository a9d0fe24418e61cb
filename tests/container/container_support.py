"""Helpers of the container tests: the docker CLI, the image built by
deploy/docker/build-local.sh, and containers run on the host network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD_LOCAL = REPO / "deploy" / "docker" / "build-local.sh"
IMAGE_TAG = "archive-harvester:test"
BASE_TAG = os.environ.get("BASE_TAG", "archive-harvester-base:bookworm")  # as build-local.sh
# image sizes measured by the session, printed in pytest's terminal summary
SIZES: dict[str, int] = {}


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=check)


def engine_unavailable() -> str | None:
    """Why no container engine can be used here, or None when one answers."""
    if shutil.which("docker") is None:
        return "no docker CLI (.ci/docker.sh installs docker.io and starts dockerd)"
    try:
        info = docker("info", "--format", "{{.ServerVersion}}", timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return "docker info did not answer in 20 s"
    if info.returncode != 0 or not info.stdout.strip():
        return f"no docker daemon answers: {info.stderr.strip().splitlines()[-1:]}"
    return None


def image_size(tag: str) -> int:
    return int(docker("image", "inspect", "-f", "{{.Size}}", tag).stdout.strip())


def image_config(tag: str) -> dict[str, object]:
    return dict(json.loads(docker("image", "inspect", tag).stdout)[0]["Config"])


@dataclass
class Container:
    """A `docker run --network host` of the image, started in the background."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    entrypoint: str | None = None
    name: str = field(default_factory=lambda: f"harvester-test-{uuid.uuid4().hex[:10]}")
    proc: subprocess.Popen[str] | None = None

    def command(self) -> list[str]:
        cmd = ["docker", "run", "--rm", "--network", "host", "--name", self.name]
        for key, value in self.env.items():
            cmd += ["-e", f"{key}={value}"]
        if self.entrypoint:
            cmd += ["--entrypoint", self.entrypoint]
        return [*cmd, IMAGE_TAG, *self.argv]

    def start(self) -> Container:
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        return self

    def wait(self, timeout: float = 180) -> tuple[int, str, str]:
        assert self.proc is not None
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.remove()
            out, err = self.proc.communicate(timeout=30)
            return -1, out, err + "\n(timed out: container removed)"
        return self.proc.returncode, out, err

    def stop(self, timeout: float = 20) -> tuple[int, str, str]:
        """SIGTERM (`docker stop`), then the exit status and output."""
        docker("stop", "-t", "10", self.name, check=False, timeout=timeout + 30)
        return self.wait(timeout)

    def remove(self) -> None:
        docker("rm", "-f", self.name, check=False, timeout=60)


def run(argv: list[str], env: dict[str, str] | None = None, entrypoint: str | None = None,
        timeout: float = 180) -> tuple[int, str, str]:
    container = Container(argv, env or {}, entrypoint).start()
    try:
        return container.wait(timeout)
    finally:
        container.remove()
