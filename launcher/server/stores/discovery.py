"""Finding MLflow stores under a folder or share, to add them as projects in one step.

Teams keep many projects' stores side by side
(``\\\\server\\share\\ai\\mlflow\\<project>\\mlruns``); pointing the launcher at the root
should find them all. The walk is built for slow shares:

- bounded depth (the root is depth 0), and a cancel event checked at every folder;
- one listing per folder; a folder is a *folder store* when a digit-named subfolder (MLflow's
  experiment ids are integers) holds a meta.yaml that MLflow wrote (its ``experiment_id`` is the
  folder's name, it has a name and a lifecycle stage), or when it is named ``mlruns`` and holds
  MLflow's ``.trash``; only a few candidates are opened, never every experiment;
- ``*.db``/``*.sqlite``/``*.sqlite3`` files are SQLite stores when their header says SQLite and,
  opened read-only, they have both ``alembic_version`` and ``experiments`` tables;
- a found store is not walked into (runs and artifacts live there); hidden folders,
  ``mlartifacts`` (``mlflow server``'s artifacts) and package folders are skipped; a store lying
  inside another found store's artifact location (an ``mlruns`` someone logged as an artifact)
  is dropped;
- symlinked folders are followed once: a folder already seen (same device and inode, or same
  real path where the file system has no inodes) is skipped, so links cannot loop;
- unreadable folders are skipped and counted, never fatal; nothing is ever written.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
import sqlite3
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launcher.model.project import Project
from launcher.model.stores import SQLITE_SUFFIXES, StoreError, StoreKind
from launcher.server.stores import schema
from launcher.server.stores.experiments import is_experiment_meta, read_meta

DEFAULT_DEPTH = 4
PROGRESS_INTERVAL = 0.1
"""Seconds between progress reports: a fast local disk must not flood the GUI with signals."""
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "mlartifacts"})
"""Never stores, often huge (``mlartifacts`` is where ``mlflow server`` puts artifacts)."""
_GENERIC = frozenset(
    {"mlruns", "mlflow", "mlflow-data", "tracking", "store", "stores", "db", "data", "runs"}
)
"""Folder or file names that say "MLflow store" rather than which project: look further up."""
_CANDIDATES = 3
"""Digit-named subfolders checked for a meta.yaml before a folder is judged not a store."""
_SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Found:
    """One store found, with the project the launcher proposes for it."""

    kind: StoreKind
    path: str
    """The store's folder or file, as the walk reached it (usable as a project's store)."""
    name: str
    """A proposed project name, unique against existing projects and the other finds."""
    experiments: int | None = None
    """Active experiments (for a folder store, its experiment folders), if known."""
    known_as: str | None = None
    """The existing project that already uses this store, if any."""
    workspace: str = ""
    """One workspace of a SQLite store that has workspaces (gathered): a project each."""

    def to_project(self) -> Project:
        return Project(name=self.name, store=self.path, workspace=self.workspace)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "path": self.path,
            "name": self.name,
            "experiments": self.experiments,
            "known_as": self.known_as,
            "workspace": self.workspace,
        }


@dataclass(frozen=True)
class Progress:
    scanned: int
    """Folders listed so far."""
    found: int
    current: str
    """The folder being looked at."""


@dataclass
class Discovery:
    root: str
    found: list[Found] = field(default_factory=list)
    scanned: int = 0
    unreadable: int = 0
    """Folders (or database files) skipped because they could not be read."""
    cancelled: bool = False
    depth_limited: bool = False
    """Some folder at the depth limit had subfolders that were not searched."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "found": [f.to_dict() for f in self.found],
            "scanned": self.scanned,
            "unreadable": self.unreadable,
            "cancelled": self.cancelled,
            "depth_limited": self.depth_limited,
        }


@dataclass
class _Hit:
    kind: StoreKind
    path: str
    experiments: int | None
    artifact_roots: list[str]


def discover(
    root: str,
    max_depth: int = DEFAULT_DEPTH,
    cancel: threading.Event | None = None,
    progress: Callable[[Progress], None] | None = None,
    *,
    existing: Iterable[Project] = (),
) -> Discovery:
    """Walk ``root`` (local or UNC) down to ``max_depth`` and return the stores found.

    ``cancel`` stops the walk at the next folder (the partial result has ``cancelled``);
    ``progress`` is called from the walking thread at most every :data:`PROGRESS_INTERVAL`
    seconds and once at the end. ``existing`` projects make proposed names unique and mark
    stores that are already projects. Raises NotADirectoryError when ``root`` is not a folder.
    """
    if not os.path.isdir(root):
        raise NotADirectoryError(f"{root} is not a folder (or cannot be reached)")
    result = Discovery(root)
    hits: list[_Hit] = []
    seen: set[object] = set()
    artifact_roots: list[str] = []
    last_report = 0.0

    def report(current: str, found: int, force: bool = False) -> None:
        nonlocal last_report
        now = time.monotonic()
        if progress is not None and (force or now - last_report >= PROGRESS_INTERVAL):
            last_report = now
            progress(Progress(result.scanned, found, current))

    stack: list[tuple[str, int]] = [(root, 0)]
    while stack:
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            break
        folder, depth = stack.pop()
        key = _identity(folder)
        if key in seen or _inside(folder, artifact_roots):
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            result.unreadable += 1
            continue
        result.scanned += 1
        report(folder, len(hits))
        hit = _folder_store(folder, entries)
        if hit is not None:
            hits.append(hit)
            artifact_roots.extend(map(_real, hit.artifact_roots))
            continue
        subdirs: list[str] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                result.unreadable += 1
                continue
            if is_dir:
                if not entry.name.startswith(".") and entry.name not in _SKIP_DIRS:
                    subdirs.append(entry.path)
            elif entry.name.lower().endswith(SQLITE_SUFFIXES):
                try:
                    sqlite_hit = _sqlite_store(entry.path)
                except _Unreadable:
                    result.unreadable += 1
                    continue
                if sqlite_hit is not None:
                    hits.append(sqlite_hit)
                    artifact_roots.extend(map(_real, sqlite_hit.artifact_roots))
        if depth >= max_depth:
            result.depth_limited = result.depth_limited or bool(subdirs)
            continue
        stack.extend((path, depth + 1) for path in reversed(subdirs))

    taken = {p.name.casefold() for p in existing}
    known = _known_stores(existing)
    for hit in hits:
        if any(
            _inside(hit.path, map(_real, other.artifact_roots))
            for other in hits
            if other is not hit
        ):
            continue
        name = propose_name(hit.path, taken)
        taken.add(name.casefold())
        spaces = _workspaces(hit.path) if hit.kind is StoreKind.SQLITE else []
        for space in spaces:  # a gathered store: one project per workspace
            known_as = known.get(_norm(hit.path) + "\x1f" + space)
            result.found.append(
                Found(hit.kind, hit.path, f"{name}: {space}", None, known_as, space)
            )
        if not spaces:
            result.found.append(
                Found(hit.kind, hit.path, name, hit.experiments, known.get(_norm(hit.path)))
            )
    report(root, len(result.found), force=True)
    return result


class _Unreadable(Exception):
    """A database file that could not be opened or read (counted, not fatal)."""


def _identity(folder: str) -> object:
    """What makes a folder the same folder however it was reached (symlinks)."""
    try:
        st = os.stat(folder)
    except OSError:
        return _norm(folder)
    if st.st_ino:
        return (st.st_dev, st.st_ino)
    return _norm(os.path.realpath(folder))  # SMB shares on Windows may report no inode


def _norm(path: str) -> str:
    return os.path.normcase(os.path.normpath(os.path.abspath(path)))


def _real(path: str) -> str:
    """Resolved: artifact locations hold real paths, while the walk may come through a link or
    a mapped drive."""
    return _norm(os.path.realpath(path))


def _inside(path: str, real_roots: Iterable[str]) -> bool:
    here = _real(path)
    return any(here == r or here.startswith(r.rstrip(os.sep) + os.sep) for r in real_roots)


def _folder_store(folder: str, entries: list[os.DirEntry[str]]) -> _Hit | None:
    experiment_dirs = [e for e in entries if e.name.isdigit() and _is_dir(e)]
    names = {e.name for e in entries}
    for entry in experiment_dirs[:_CANDIDATES]:
        data = read_meta(Path(entry.path) / "meta.yaml")
        if data is not None and is_experiment_meta(data, entry.name):
            roots = _artifact_root(data.get("artifact_location"), entry.path)
            return _Hit(StoreKind.FOLDER, folder, len(experiment_dirs), roots)
    if os.path.basename(folder).lower() == "mlruns" and ".trash" in names:
        return _Hit(StoreKind.FOLDER, folder, len(experiment_dirs), [])
    return None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _artifact_root(location: Any, experiment_dir: str) -> list[str]:
    """The folder holding an experiment's artifacts, when it is a local path outside the store.

    ``file:///x/mlruns/3`` -> ``/x/mlruns``: artifact folders are per experiment, so their
    parent is where other experiments' artifacts go too.
    """
    path = _local_path(location)
    if path is None:
        return []
    parent = _norm(os.path.dirname(path.rstrip("/\\")))
    store = _norm(os.path.dirname(experiment_dir))
    return [] if parent == store else [parent]


def _local_path(location: Any) -> str | None:
    if not isinstance(location, str) or not location:
        return None
    if location.startswith("file:"):
        parsed = urllib.parse.urlsplit(location)
        if parsed.netloc and parsed.netloc.lower() != "localhost":
            return "//" + parsed.netloc + urllib.parse.unquote(parsed.path)
        return urllib.request.url2pathname(parsed.path)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", location):
        return None  # s3:, mlflow-artifacts:, dbfs: ... (a one-letter scheme is a drive)
    return location if os.path.isabs(location) else None


def _sqlite_store(path: str) -> _Hit | None:
    """A _Hit for an MLflow SQLite file, None for any other file; _Unreadable if unreadable."""
    try:
        with open(path, "rb") as fh:
            if fh.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
                return None
    except OSError as exc:
        raise _Unreadable(path) from exc
    try:
        conn = sqlite3.connect(schema.sqlite_uri(path), uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise _Unreadable(path) from exc
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"alembic_version", "experiments"} <= tables:
            return None
        count = conn.execute(
            "SELECT COUNT(*) FROM experiments WHERE lifecycle_stage = 'active'"
        ).fetchone()[0]
        rows = conn.execute("SELECT DISTINCT artifact_location FROM experiments").fetchall()
        locations = [r[0] for r in rows]
    except sqlite3.Error as exc:
        raise _Unreadable(path) from exc
    finally:
        conn.close()
    roots: set[str] = set()
    for location in locations:
        local = _local_path(location)
        if local is not None:
            roots.add(_norm(os.path.dirname(local.rstrip("/\\"))))
    return _Hit(StoreKind.SQLITE, path, int(count), sorted(roots))


# -- names -------------------------------------------------------------------------------------


def propose_name(path: str, taken: Iterable[str] = (), *, windows: bool | None = None) -> str:
    """A project name for a store, from its folder, unique against ``taken`` (case-insensitive).

    ``\\\\server\\share\\ai\\mlflow\\dra\\mlruns`` -> ``dra``; ``/x/dra/mlflow.db`` -> ``dra``;
    ``/x/team/dra_tracking.db`` -> ``dra_tracking``. Generic names (mlruns, mlflow, tracking...)
    are skipped upwards; a clash gets `` (2)``, `` (3)``...
    """
    win = (sys.platform == "win32") if windows is None else windows
    flavour: Any = ntpath if win else posixpath
    parts = [p for p in re.split(r"[\\/]+" if win else r"/+", path) if p]
    if parts and flavour.splitext(parts[-1])[1].lower() in SQLITE_SUFFIXES:
        parts[-1] = flavour.splitext(parts[-1])[0]
    if win and path.startswith(("\\\\", "//")):
        parts = parts[2:]  # server and share name say nothing about the project
    elif parts and re.fullmatch(r"[A-Za-z]:", parts[0]):
        parts = parts[1:]
    base = next((p for p in reversed(parts) if p.casefold() not in _GENERIC), "") or "MLflow"
    base = base.strip() or "MLflow"
    folded = {t.casefold() for t in taken}
    name, n = base, 2
    while name.casefold() in folded:
        name = f"{base} ({n})"
        n += 1
    return name


def _known_stores(projects: Iterable[Project]) -> dict[str, str]:
    known: dict[str, str] = {}
    for project in projects:
        try:
            store = project.parsed_store()
        except StoreError:
            continue
        if store.path:
            key = _norm(store.path) + (f"\x1f{project.workspace}" if project.workspace else "")
            known.setdefault(key, project.name)
    return known


def _workspaces(path: str) -> list[str]:
    """The workspaces of a gathered SQLite store besides ``default`` (none for others)."""
    from launcher.server.stores import workspaces

    try:
        return [n for n in workspaces.of_store(path) if n != "default"]
    except workspaces.WorkspacesUnknown:
        return []
