"""Finding interpreters with MLflow in the usual places (a fake home with real interpreters)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from launcher.server.python.interpreters import Interpreter, candidates_for, discover

pytestmark = pytest.mark.skipif(os.name == "nt", reason="builds a POSIX-style fake home")

MLFLOW = importlib.metadata.version("mlflow")


def mlflow_env(env: Path) -> Path:
    """A real virtual environment, as users make them, that has this interpreter's MLflow.

    A bare symlink to ``sys.executable`` is not one: inside a virtualenv (or a conda env) the
    link, outside that environment's folder, starts the base interpreter without its packages.
    So this makes a venv of the base interpreter and points it, through a ``.pth`` file, at the
    folders this interpreter imports MLflow from: it works from a system Python, a virtualenv
    and a conda env alike.
    """
    venv.EnvBuilder(symlinks=os.name != "nt", with_pip=False).create(env)
    python = env / "bin" / "python"
    site_dir = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    ours = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (site_dir / "_launcher_test.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    return python


def bare_python(env: Path) -> Path:
    """An environment whose interpreter runs without site-packages: no MLflow there."""
    python = env / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    return python


@pytest.fixture
def home(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    found = {
        "venv": mlflow_env(home / ".virtualenvs" / "good"),
        "bare": bare_python(home / ".virtualenvs" / "bare"),
        "conda": mlflow_env(home / "miniconda3" / "envs" / "ml"),
        "listed": mlflow_env(tmp_path / "elsewhere" / "env"),
        "project": mlflow_env(home / "projects" / "thing" / ".venv"),
    }
    (home / ".virtualenvs" / "empty").mkdir()
    (home / ".conda").mkdir()
    (home / ".conda" / "environments.txt").write_text(
        f"{tmp_path / 'elsewhere' / 'env'}\n{tmp_path / 'gone'}\n", encoding="utf-8"
    )
    on_path = mlflow_env(tmp_path / "path-env").parent  # its bin/ holds python and python3
    found["path"] = on_path / "python3"
    shims = tmp_path / "pyenv" / "shims"
    shims.mkdir(parents=True)
    (shims / "python3").symlink_to(sys.executable)
    found["root"] = tmp_path
    return found


def env_for(home: dict[str, Path]) -> dict[str, str]:
    root = home["root"]
    return {
        "PATH": f"{root / 'path-env' / 'bin'}{os.pathsep}{root / 'pyenv' / 'shims'}",
        "HOME": str(root / "home"),
    }


def test_candidates_cover_path_conda_venvs_and_skip_shims(home: dict[str, Path]) -> None:
    found = {p: s for p, s in candidates_for(env_for(home), home["root"] / "home")}
    root = str(home["root"])
    ours = {p: s for p, s in found.items() if p.startswith(root)}
    assert ours[str(home["path"])] == "PATH"
    assert ours[str(home["conda"])] == "conda"
    assert ours[str(home["listed"])] == "conda"
    assert ours[str(home["venv"])] == "venv"
    assert ours[str(home["bare"])] == "venv"
    assert ours[str(home["project"])] == "venv"
    assert not any("shims" in p for p in ours)


def test_discover_probes_each_once_and_keeps_those_with_mlflow(home: dict[str, Path]) -> None:
    found = discover(environ=env_for(home), home=home["root"] / "home")
    assert found[0] == Interpreter("", "launcher", MLFLOW, found[0].python_version)
    root = str(home["root"])
    ours = [i for i in found if i.python.startswith(root)]
    assert sorted(i.python for i in ours) == sorted(
        str(home[k]) for k in ("path", "conda", "listed", "venv", "project")
    )  # the bare one has no MLflow; 'python' and 'python3' on PATH are one interpreter
    assert {i.mlflow for i in ours} == {MLFLOW}
    assert all(i.python_version.startswith("3.") for i in ours)
    labels = {i.source: i.label for i in ours}
    assert labels["conda"].endswith(f"(MLflow {MLFLOW}, conda)")


def test_discover_can_list_those_without_mlflow(home: dict[str, Path]) -> None:
    found = discover(environ=env_for(home), home=home["root"] / "home", with_mlflow_only=False)
    bare = [i for i in found if i.python == str(home["bare"])]
    assert len(bare) == 1 and bare[0].mlflow is None
    assert bare[0].label.endswith("(no MLflow, venv)")
