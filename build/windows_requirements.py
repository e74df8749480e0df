"""The Windows release's requirements, read from pyproject.toml: one source for every platform.

    python build/windows_requirements.py requirements   # one requirement a line
    python build/windows_requirements.py constraints    # the Windows pins, one a line
    python build/windows_requirements.py runtime        # the launcher's own dependencies' names

build/windows.sh downloads and installs ``requirements`` with ``constraints`` into the Windows
Python; build/check_dependencies.py checks each ``runtime`` dependency is in the frozen app.
Before this, windows.sh kept a list of its own, which had no ``keyring`` (issue 21): the frozen
app then had no credential store and kept passwords in config.json.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _project(pyproject: Path = PYPROJECT) -> dict:
    return tomllib.loads(pyproject.read_text("utf-8"))


def runtime(pyproject: Path = PYPROJECT) -> list[str]:
    """The launcher's own dependencies, as written (``mlflow[auth]>=3.17,<4``)."""
    return list(_project(pyproject)["project"]["dependencies"])


def requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """Runtime dependencies, the ``build`` extra, then the Windows-only requirements."""
    data = _project(pyproject)
    windows = data["tool"]["mlflow-launcher"]["windows"]
    return [
        *data["project"]["dependencies"],
        *data["project"]["optional-dependencies"]["build"],
        *windows["requirements"],
    ]


def constraints(pyproject: Path = PYPROJECT) -> list[str]:
    return list(_project(pyproject)["tool"]["mlflow-launcher"]["windows"]["pins"])


def dist_name(requirement: str) -> str:
    """``mlflow[auth]>=3.17,<4`` -> ``mlflow`` (normalised as PEP 503 says)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "requirements"
    lines = {
        "requirements": requirements,
        "constraints": constraints,
        "runtime": lambda: [dist_name(r) for r in runtime()],
    }.get(what)
    if lines is None:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
