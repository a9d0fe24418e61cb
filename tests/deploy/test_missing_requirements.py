"""deploy/docker/missing_requirements.py: what a folder of wheels lacks for the Python that
runs it (markers, Requires-Python, tags), so build-local.sh fetches exactly that."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

from deploy_support import DEPLOY

_spec = importlib.util.spec_from_file_location("missing_requirements",
                                               DEPLOY / "docker" / "missing_requirements.py")
assert _spec is not None and _spec.loader is not None
missing_requirements = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(missing_requirements)

PY = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"


def wheel(folder: Path, name: str, version: str, *requires: str, requires_python: str = "",
          tag: str = "py3-none-any") -> None:
    dist = f"{name.replace('-', '_')}-{version}"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {r}" for r in requires]
    with zipfile.ZipFile(folder / f"{dist}-{tag}.whl", "w") as whl:
        whl.writestr(f"{dist}.dist-info/METADATA", "\n".join(lines) + "\n")


def test_a_complete_folder_lacks_nothing(tmp_path: Path) -> None:
    wheel(tmp_path, "proj", "1.0", "lib>=2", "other[fast]; python_version >= '3'")
    wheel(tmp_path, "lib", "2.1")
    wheel(tmp_path, "other", "1.0", "speedup; extra == 'fast'", "never; extra == 'slow'")
    wheel(tmp_path, "speedup", "0.1")
    assert missing_requirements.missing(tmp_path, "proj") == []


def test_markers_of_this_python_decide_what_is_needed(tmp_path: Path) -> None:
    # as redis: async-timeout only where python_full_version is older than this one
    wheel(tmp_path, "proj", "1.0", "redis")
    wheel(tmp_path, "redis", "5.0", f"async-timeout>=4; python_full_version <= '{PY}'",
          f"old-backport; python_full_version < '{sys.version_info.major}.0'")
    assert missing_requirements.missing(tmp_path, "proj") == ["async-timeout>=4"]


def test_a_wheel_for_a_newer_python_or_another_platform_is_no_wheel(tmp_path: Path) -> None:
    wheel(tmp_path, "proj", "1.0", "soupsieve>1.2", "native")
    wheel(tmp_path, "soupsieve", "2.9", requires_python=f">{PY}")  # the host picked a newer one
    wheel(tmp_path, "native", "1.0", tag="cp27-cp27mu-manylinux1_x86_64")
    assert missing_requirements.missing(tmp_path, "proj") == ["native", "soupsieve>1.2"]
    wheel(tmp_path, "soupsieve", "2.5", requires_python=f"<={PY}")
    wheel(tmp_path, "native", "1.0")
    assert missing_requirements.missing(tmp_path, "proj") == []


def test_a_version_outside_the_specifier_is_missing(tmp_path: Path) -> None:
    wheel(tmp_path, "proj", "1.0", "lib>=3")
    wheel(tmp_path, "lib", "2.1")
    assert missing_requirements.missing(tmp_path, "proj") == ["lib>=3"]
