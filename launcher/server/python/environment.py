"""Which Python runs a project's MLflow, and what that MLflow can do.

The launcher's own environment is probed in-process without importing MLflow (2 s saved in the
tray); any other interpreter is asked by running ``main.py probe`` in it, once per interpreter
file version.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import launcher
from launcher.server import spawn
from launcher.server.child import probe, protocol

CHILD_SCRIPT = Path(protocol.SCRIPT)
FROZEN = launcher.frozen()
SERVE_CHILD_FLAG = protocol.SERVE_CHILD_FLAG


class EnvironmentError_(Exception):
    """The chosen Python cannot run MLflow; the message says why in plain words."""


@dataclass(frozen=True)
class PythonEnv:
    python: str
    """The interpreter (or, frozen, the launcher's own exe)."""
    own: bool
    mlflow: str | None
    mlflow_dir: str | None
    lean: bool
    python_version: str = ""
    revisions: frozenset[str] = field(default_factory=frozenset)
    heads: frozenset[str] = field(default_factory=frozenset)

    @property
    def head(self) -> str | None:
        return next(iter(self.heads)) if len(self.heads) == 1 else None

    def child_command(self, *args: str) -> list[str]:
        """How to run the server process (``child/commands.py``) here, frozen or not."""
        if self.own and FROZEN:
            return [sys.executable, SERVE_CHILD_FLAG, *args]
        return [self.python, "-X", "utf8", str(CHILD_SCRIPT), *args]

    def child_env(self, base: dict[str, str]) -> dict[str, str]:
        """Undo what a frozen bootloader put in the environment before running another Python."""
        env = dict(base)
        if FROZEN and not self.own:
            for var in ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"):
                orig = env.pop(var + "_ORIG", None)
                if orig is None:
                    env.pop(var, None)
                else:
                    env[var] = orig
            env.pop("PYTHONHOME", None)
            env.pop("PYTHONPATH", None)
        return env


def resolve(python: str = "") -> PythonEnv:
    """The environment for a project's ``python`` setting ('' is the launcher's own)."""
    if not python.strip() or _same_file(python, sys.executable):
        return _own_env()
    path = Path(python).expanduser()
    if path.is_dir():
        for candidate in ("python.exe", "Scripts/python.exe", "bin/python", "bin/python3"):
            if (path / candidate).is_file():
                path = path / candidate
                break
    if not path.is_file():
        raise EnvironmentError_(f"The Python interpreter {python} does not exist.")
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise EnvironmentError_(f"The Python interpreter {python} cannot be read: {exc}") from exc
    return _probe_other(str(path), stamp)


def _same_file(a: str, b: str) -> bool:
    """Same path, symlinks not followed: a venv's python is a symlink to its base interpreter
    but a different environment (its own site-packages, maybe another MLflow)."""
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


@lru_cache(maxsize=1)
def _own_env() -> PythonEnv:
    info = probe.probe()
    return _from_probe(sys.executable, True, info)


@lru_cache(maxsize=32)
def _probe_other(python: str, _stamp: int) -> PythonEnv:
    env = PythonEnv(python, False, None, None, False).child_env(dict(os.environ))
    try:
        out = spawn.run([python, str(CHILD_SCRIPT), "probe"], env=env, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentError_(f"Could not run {python}: {exc}") from exc
    try:
        info = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        detail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        raise EnvironmentError_(f"{python} is not a usable Python: {detail[0]}") from exc
    return _from_probe(python, False, info)


def _from_probe(python: str, own: bool, info: dict) -> PythonEnv:
    revisions, heads = migration_graph(info.get("mlflow_dir"))
    return PythonEnv(
        python=python,
        own=own,
        mlflow=info.get("mlflow"),
        mlflow_dir=info.get("mlflow_dir"),
        lean=bool(info.get("lean")),
        python_version=info.get("python", ""),
        revisions=revisions,
        heads=heads,
    )


_REV = re.compile(r"^revision\s*(?::\s*str\s*)?=\s*['\"]([0-9a-zA-Z_]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.M)


def migration_graph(mlflow_dir: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """All alembic revisions an MLflow knows, and its heads, read from its migration files.

    Reading the files keeps MLflow and alembic out of the launcher process.
    """
    if not mlflow_dir:
        return frozenset(), frozenset()
    versions = Path(mlflow_dir) / "store" / "db_migrations" / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        files = list(versions.glob("*.py"))
    except OSError:
        return frozenset(), frozenset()
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError:
            continue
        rev = _REV.search(text)
        if not rev:
            continue
        revisions.add(rev.group(1))
        down = _DOWN.search(text)
        if down:
            parents.update(re.findall(r"['\"]([0-9a-zA-Z_]+)['\"]", down.group(1)))
    return frozenset(revisions), frozenset(revisions - parents)
