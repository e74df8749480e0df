"""Finding the Python interpreters on this machine that can serve MLflow.

The project editor offers them in a picker, each with its MLflow version: the launcher's own,
those on PATH, conda environments and virtual environments in the places their tools put them on
Windows and Linux. Probing runs each interpreter once (through :func:`environment.resolve`, which
caches per interpreter), so :func:`discover` takes a second or more: call it off the GUI thread.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from launcher.server.python import environment

log = logging.getLogger(__name__)

PROBE_WORKERS = 4
WINDOWS = sys.platform == "win32"


@dataclass(frozen=True)
class Interpreter:
    python: str
    """The interpreter's path; '' for the launcher's own environment."""
    source: str
    """Where it was found: 'launcher', 'PATH', 'conda', 'venv', 'pyenv' or 'system'."""
    mlflow: str | None
    python_version: str = ""

    @property
    def label(self) -> str:
        """What the picker shows: where it is and which MLflow it has."""
        mlflow = f"MLflow {self.mlflow}" if self.mlflow else "no MLflow"
        if not self.python:
            return f"The launcher's own ({mlflow})"
        return f"{self.python}  ({mlflow}, {self.source})"


def discover(
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    with_mlflow_only: bool = True,
) -> list[Interpreter]:
    """Every interpreter found, the launcher's own first. Slow (runs each one): use a thread.

    ``environ`` and ``home`` default to the real ones; the tests pass their own.
    """
    env = os.environ if environ is None else environ
    if home is None:
        home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    own = _probe("", "launcher")
    found: list[Interpreter] = [own] if own is not None else []
    candidates = list(_unique(candidates_for(env, home)))
    with ThreadPoolExecutor(max_workers=PROBE_WORKERS) as pool:
        results = pool.map(lambda c: _probe(*c), candidates)
        found.extend(r for r in results if r is not None)
    if with_mlflow_only:
        found = [i for i in found if i.mlflow]
    return found


def candidates_for(environ: Mapping[str, str], home: Path) -> Iterator[tuple[str, str]]:
    """(interpreter path, source) pairs to probe, without the launcher's own."""
    for entry in environ.get("PATH", "").split(os.pathsep):
        if entry and not _is_store_stub(entry):
            for name in _PATH_NAMES:
                yield str(Path(entry) / name), "PATH"
    for base in _conda_bases(environ, home):
        yield from ((p, "conda") for p in _env_python(base))
        yield from ((p, "conda") for env in _subdirs(base / "envs") for p in _env_python(env))
    for line in _read_lines(home / ".conda" / "environments.txt"):
        yield from ((p, "conda") for p in _env_python(Path(line)))
    if environ.get("CONDA_PREFIX"):
        yield from ((p, "conda") for p in _env_python(Path(environ["CONDA_PREFIX"])))
    if environ.get("VIRTUAL_ENV"):
        yield from ((p, "venv") for p in _env_python(Path(environ["VIRTUAL_ENV"])))
    for folder in _venv_homes(environ, home):
        yield from ((p, "venv") for env in _subdirs(folder) for p in _env_python(env))
    for env in _project_venvs(home):
        yield from ((p, "venv") for p in _env_python(env))
    pyenv = Path(environ.get("PYENV_ROOT") or home / ".pyenv") / "versions"
    for version in _subdirs(pyenv):
        yield from ((p, "pyenv") for p in _env_python(version))
        yield from ((p, "venv") for env in _subdirs(version / "envs") for p in _env_python(env))
    yield from ((p, "system") for p in _system_pythons(environ))


# -- the usual places -----------------------------------------------------------------------

_PATH_NAMES = ("python.exe",) if WINDOWS else ("python3", "python")
_CONDA_NAMES = (
    "miniconda3", "anaconda3", "miniforge3", "mambaforge", "micromamba", "Miniconda3",
    "Anaconda3", "Miniforge3", ".conda", ".local/share/mamba",
)  # fmt: skip


def _conda_bases(environ: Mapping[str, str], home: Path) -> Iterator[Path]:
    for name in _CONDA_NAMES:
        yield home / name
    if environ.get("MAMBA_ROOT_PREFIX"):
        yield Path(environ["MAMBA_ROOT_PREFIX"])
    if WINDOWS:
        for var in ("LOCALAPPDATA", "PROGRAMDATA", "ProgramFiles"):
            root = environ.get(var)
            if root:
                for name in ("miniconda3", "anaconda3", "miniforge3", "Continuum/anaconda3"):
                    yield Path(root) / name
    else:
        yield from (Path("/opt") / n for n in ("conda", "miniconda3", "anaconda3", "miniforge3"))


def _venv_homes(environ: Mapping[str, str], home: Path) -> Iterator[Path]:
    """Folders that hold one virtual environment per subfolder."""
    if environ.get("WORKON_HOME"):
        yield Path(environ["WORKON_HOME"])
    for name in (
        ".virtualenvs",
        "virtualenvs",
        ".venvs",
        "venvs",
        "Envs",
        ".local/share/virtualenvs",
    ):
        yield home / name


def _project_venvs(home: Path) -> Iterator[Path]:
    """A project's own ``.venv`` beside its code: ``~/projects/*/.venv`` and the like."""
    for folder in ("projects", "code", "src", "dev", "repos", "source/repos", "Documents/GitHub"):
        for project in _subdirs(home / folder):
            for name in (".venv", "venv"):
                yield project / name


def _system_pythons(environ: Mapping[str, str]) -> Iterator[str]:
    if WINDOWS:
        for var in ("LOCALAPPDATA", "ProgramFiles"):
            root = environ.get(var)
            base = (
                Path(root) / ("Programs/Python" if var == "LOCALAPPDATA" else "") if root else None
            )
            for version in _subdirs(base) if base else ():
                if version.name.lower().startswith("python3"):
                    yield str(version / "python.exe")
    else:
        for folder in ("/usr/bin", "/usr/local/bin"):
            yield f"{folder}/python3"


def _env_python(env: Path) -> list[str]:
    """The interpreter of an environment folder, if it has one."""
    names = ("python.exe", "Scripts/python.exe") if WINDOWS else ("bin/python", "bin/python3")
    for name in names:
        path = env / name
        if path.is_file():
            return [str(path)]
    return []


def _subdirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def _read_lines(path: Path) -> list[str]:
    try:
        return [
            line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    except (OSError, UnicodeDecodeError):
        return []


def _is_store_stub(folder: str) -> bool:
    """Launchers that are not interpreters: never probe them.

    The Microsoft Store's python.exe opens the Store; pyenv's and asdf's shims re-run an
    interpreter that the other places find anyway, under a name that would show up twice.
    """
    lowered = folder.replace("\\", "/").rstrip("/").lower()
    return "windowsapps" in lowered or lowered.endswith("/shims")


def _unique(candidates: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Each interpreter once; two names for one file in one folder count as one.

    Environments are told apart by their folder, not by where symlinks lead: a venv's
    ``bin/python`` points at the base interpreter but has its own packages.
    """
    seen: set[tuple[str, str]] = set()
    own_key = _key(sys.executable)
    for path, source in candidates:
        if not os.path.isfile(path):
            continue
        key = _key(path)
        if key in seen or key == own_key:
            continue
        seen.add(key)
        yield path, source


def _key(path: str) -> tuple[str, str]:
    absolute = os.path.abspath(path)
    folder = os.path.normcase(os.path.realpath(os.path.dirname(absolute)))
    try:
        target = os.path.normcase(os.path.realpath(absolute))
    except OSError:
        target = os.path.normcase(absolute)
    return folder, target


def _probe(python: str, source: str) -> Interpreter | None:
    try:
        env = environment.resolve(python)
    except environment.EnvironmentError_ as exc:
        log.debug("skipping %s: %s", python, exc)
        return None
    except Exception:
        log.exception("probing %s failed", python)
        return None
    return Interpreter(python, source, env.mlflow, env.python_version)
