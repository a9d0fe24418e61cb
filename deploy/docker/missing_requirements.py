"""Print the requirements a folder of wheels lacks for this interpreter, one per line.

    python3 missing_requirements.py WHEELS_DIR PROJECT_NAME

Walks the project's wheel and its dependencies' wheels (their Requires-Dist) with the
markers of the Python that runs it, and prints each requirement no wheel in the folder
satisfies with a wheel this interpreter can install (its tags, its Requires-Python).
build-local.sh runs it with the image's Python on wheels built with the host's, and
downloads what it prints: a dependency behind a marker the two Pythons read otherwise
(redis needs async-timeout where python_full_version < "3.11.3", Debian bookworm's 3.11.2),
or a release the host picked that requires a newer Python (soupsieve: >=3.11.5).
Uses only the standard library and pip's vendored packaging (any pip since 20.9).
"""

from __future__ import annotations

import platform
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

try:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.tags import sys_tags
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # a bare venv: pip's own copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.specifiers import SpecifierSet  # type: ignore[no-redef]
    from pip._vendor.packaging.tags import sys_tags  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import (  # type: ignore[no-redef]
        canonicalize_name,
        parse_wheel_filename,
    )


def metadata(path: Path) -> Any:
    with zipfile.ZipFile(path) as whl:
        name = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(whl.read(name).decode("utf-8"))


def wheels(folder: Path) -> dict[str, list[tuple[Any, Path]]]:
    """The folder's wheels this interpreter can install, by project name: their tags match
    it and their Requires-Python admits it (a wheel resolved for another Python is no wheel)."""
    supported = set(sys_tags())
    python = platform.python_version()
    out: dict[str, list[tuple[Any, Path]]] = {}
    for path in sorted(folder.glob("*.whl")):
        name, version, _build, tags = parse_wheel_filename(path.name)
        if not supported.intersection(tags):
            continue
        requires_python = metadata(path).get("Requires-Python")
        if requires_python and not SpecifierSet(requires_python).contains(python, prereleases=True):
            continue
        out.setdefault(canonicalize_name(name), []).append((version, path))
    return out


def requires(path: Path) -> list[str]:
    return list(metadata(path).get_all("Requires-Dist") or [])


def missing(folder: Path, project: str) -> list[str]:
    available = wheels(folder)
    todo = [(canonicalize_name(project), Requirement(project), ())]
    done: set[tuple[str, tuple[str, ...]]] = set()
    lacking: list[str] = []
    while todo:
        name, req, extras = todo.pop()
        if (name, extras) in done:
            continue
        done.add((name, extras))
        found = [p for v, p in available.get(name, []) if req.specifier.contains(v, prereleases=True)]
        if not found:
            lacking.append(str(req).split(";")[0].strip())
            continue
        for line in requires(found[-1]):
            dep = Requirement(line)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if dep.marker is None or any(dep.marker.evaluate(env) for env in envs):
                todo.append((canonicalize_name(dep.name), dep, tuple(sorted(dep.extras))))
    return sorted(set(lacking))


if __name__ == "__main__":
    for line in missing(Path(sys.argv[1]), sys.argv[2]):
        print(line)
