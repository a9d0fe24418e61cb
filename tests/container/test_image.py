"""The image built for real (a debootstrap base, wheels, no network in the build) runs the
harvester as a non-root user, holds no compiler, and serves and harvests the sample archive."""

from __future__ import annotations

import re

import pytest
from container_support import BASE_TAG, SIZES, image_config, run

# the first test also waits for the image's build (a fresh machine: debootstrap, wheels)
pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

COMPILERS = ("gcc", "cc", "c++", "g++", "clang", "tcc", "x86_64-linux-gnu-gcc")


def test_image_runs_as_non_root_with_the_harvester_as_entrypoint(image: str) -> None:
    config = image_config(image)
    assert config["User"] == "harvester"
    assert config["Entrypoint"] == ["harvester"]
    code, out, err = run(["-c", "id -u; id -un; harvester --help | head -n 1; python3 -V"],
                         entrypoint="sh")
    assert code == 0, err
    uid, user, usage, python = out.splitlines()
    assert (uid, user) == ("10001", "harvester")
    assert usage.startswith("usage: harvester")
    assert python == "Python 3.11.2"  # bookworm's, the Python the wheels were resolved for


def test_image_holds_no_compiler(image: str) -> None:
    script = ("for c in " + " ".join(COMPILERS) + "; do command -v $c; done; "
              "ls -d /usr/lib/gcc/*/*/cc1 /usr/libexec/gcc 2>/dev/null; true")
    code, out, err = run(["-c", script], entrypoint="sh")
    assert code == 0, err
    assert out.strip() == "", f"compilers in the image: {out.split()}"


def test_image_size_is_reported(image: str) -> None:
    assert SIZES[image] > SIZES[BASE_TAG] > 0  # printed in the terminal summary
    print(f"{image}: {SIZES[image] / 1e6:.0f} MB (base {SIZES[BASE_TAG] / 1e6:.0f} MB)")


def test_demo_inside_the_image(image: str) -> None:
    code, out, err = run(["demo", "--size", "12", "--store", "/tmp/demo"], timeout=240)
    assert code == 0, err[-3000:]
    assert re.search(r"^demo: 12 records, \d+ files, 0 quarantined in /tmp/demo$", out, re.M), out
    assert re.search(r"\bbackfill\s+finished\s+12\b", out), out
