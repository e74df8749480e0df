"""The Windows release installs what pyproject.toml declares: one source (issue 21)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build"))
import windows_requirements as wr  # noqa: E402


def test_every_runtime_dependency_and_build_tool_is_a_windows_requirement() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["build"]]
    assert wr.requirements()[: len(wanted)] == wanted
    names = {wr.dist_name(r) for r in wr.requirements()}
    assert {"keyring", "pywin32-ctypes", "mlflow", "pyside6", "pyinstaller"} <= names


def test_a_dependency_added_to_pyproject_reaches_the_windows_release(tmp_path: Path) -> None:
    text = (REPO / "pyproject.toml").read_text("utf-8")
    added = text.replace("dependencies = [\n", 'dependencies = [\n    "newdep>=1",\n', 1)
    (tmp_path / "pyproject.toml").write_text(added, "utf-8")
    assert "newdep>=1" in wr.requirements(tmp_path / "pyproject.toml")
    assert "newdep" in [wr.dist_name(r) for r in wr.runtime(tmp_path / "pyproject.toml")]


def test_pins_are_exact_and_name_requirements() -> None:
    names = {wr.dist_name(r) for r in wr.requirements()}
    for pin in wr.constraints():
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[0-9][0-9A-Za-z.]*", pin), pin
        assert wr.dist_name(pin) in names | {"numpy"}, pin


def test_windows_sh_keeps_no_list_of_its_own() -> None:
    script = (REPO / "build" / "windows.sh").read_text("utf-8")
    assert re.search(r'windows_requirements\.py"? requirements', script)
    assert re.search(r'windows_requirements\.py"? constraints', script)
    assert "pip check" in script
    assert not re.search(r'"mlflow==|"keyring|"pyside6==', script)


@pytest.mark.parametrize(
    ("requirement", "name"),
    [
        ("mlflow[auth]>=3.17,<4", "mlflow"),
        ("PyYAML>=5.4", "pyyaml"),
        ("pywin32_ctypes", "pywin32-ctypes"),
    ],
)
def test_dist_name(requirement: str, name: str) -> None:
    assert wr.dist_name(requirement) == name
