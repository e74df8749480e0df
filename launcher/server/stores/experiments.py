"""A project's experiments: read from its running server, or straight from its store.

The menu and the project view read a running server over REST (``experiments/search``), which
is what the UI will show. Proposing the next experiment name must also work with no server
running (``mlflow-launcher name``), so folder and SQLite stores are read directly, strictly
read-only: meta.yaml files, and SQLite opened with ``mode=ro``. Naming counts *deleted*
experiments too: MLflow keeps a deleted experiment's name reserved until it is purged, so a
proposal must never reuse one.

Every call here may block on the network or a share: the tray runs them off the GUI thread.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from launcher.model import links, naming
from launcher.model.links import ExperimentMenu
from launcher.model.naming import Experiment
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import Store, StoreKind
from launcher.server import rest
from launcher.server.access_key import split_key
from launcher.server.stores import schema

log = logging.getLogger(__name__)

REST_TIMEOUT = 10.0
OPEN_TIMEOUT = 5.0
"""How long opening a project waits for the experiment list before opening the plain root."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# -- from a running server ------------------------------------------------------------------
# ``base_url`` is the server's link (``ServerManager.link``): its key, if any, goes to the REST
# calls' header; the links built here are without it (added when one is opened).


def fetch(
    base_url: str,
    *,
    include_deleted: bool = False,
    timeout: float = REST_TIMEOUT,
    workspace: str = "",
) -> list[Experiment]:
    """Every experiment the server knows (active ones unless ``include_deleted``), in
    ``workspace`` when it is given (a server with workspaces on).

    Raises OSError or ValueError when the server does not answer sensibly.
    """
    view = "ALL" if include_deleted else "ACTIVE_ONLY"
    raw = rest.search_experiments(base_url, timeout=timeout, view_type=view, workspace=workspace)
    return [Experiment.from_rest(e) for e in raw if isinstance(e, dict)]


def project_experiments(
    project: Project, base_url: str, *, timeout: float = REST_TIMEOUT
) -> list[Experiment]:
    """The project's active experiments (names starting with its prefix), newest first."""
    found = fetch(base_url, timeout=timeout, workspace=project.workspace)
    return links.project_experiments(found, project.prefix)


def read_menu(
    project: Project,
    base_url: str,
    *,
    per_stage: int = naming.DEFAULT_PER_STAGE,
    timeout: float = REST_TIMEOUT,
) -> ExperimentMenu:
    """The "Experiments" submenu of a running project: groups by stage, deep links, More...

    Raises OSError or ValueError when the server cannot be read (show "could not be read").
    """
    experiments = fetch(base_url, timeout=timeout, workspace=project.workspace)
    plain = split_key(base_url)[0]  # the menu's links: without the key, added when opened
    return links.build_menu(
        plain, project.prefix, experiments, per_stage=per_stage, workspace=project.workspace
    )


def project_view_url(project: Project, base_url: str, *, timeout: float = REST_TIMEOUT) -> str:
    """The project's own view; raises when the server cannot be read (see :func:`open_url_for`)."""
    plain = split_key(base_url)[0]
    if not project.prefix:
        return links.in_workspace(links.base(plain), project.workspace)
    found = fetch(base_url, timeout=timeout, workspace=project.workspace)
    return links.project_view_url(plain, project.prefix, found, project.workspace)


def open_url_for(project: Project, base_url: str, *, timeout: float = OPEN_TIMEOUT) -> str:
    """What opening ``project`` should show: its view, or the plain root if that fails.

    Never raises: a slow or odd experiment list must not stop the UI from opening.
    """
    try:
        return project_view_url(project, base_url, timeout=timeout)
    except (OSError, ValueError) as exc:
        log.warning("experiments of %s not read (%s); opening the root", project.name, exc)
        return links.in_workspace(links.base(split_key(base_url)[0]), project.workspace)


# -- straight from a store --------------------------------------------------------------------


class StoreNotReadable(Exception):
    """The store's experiments cannot be read without a server; the message says why."""


def read_store(
    store: Store, *, timeout: float = REST_TIMEOUT, workspace: str = ""
) -> list[Experiment]:
    """Every experiment of a folder or SQLite store (deleted ones included), read-only.

    A remote tracking server is asked over REST. Other SQL databases need their driver and
    MLflow, i.e. a server: :class:`StoreNotReadable` then (see :func:`existing_names`).
    """
    if store.kind is StoreKind.FOLDER:
        assert store.path is not None
        return read_folder_store(Path(store.path))
    if store.kind is StoreKind.SQLITE:
        assert store.path is not None
        return read_sqlite_store(store.path, workspace)
    if store.kind is StoreKind.REMOTE:
        return fetch(store.uri, include_deleted=True, timeout=timeout, workspace=workspace)
    raise StoreNotReadable(f"{store.display} is a database server; reading it needs MLflow")


def read_folder_store(root: Path) -> list[Experiment]:
    """Experiments of a folder store: ``<root>/<id>/meta.yaml``, and ``.trash/<id>`` (deleted)."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    found: list[Experiment] = []
    for folder in (root, root / ".trash"):
        for meta in _experiment_metas(folder):
            exp = experiment_from_meta(meta)
            if exp is not None:
                found.append(exp)
    return found


def _experiment_metas(folder: Path) -> Iterator[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.isdigit() and entry.is_dir():
            yield Path(entry.path) / "meta.yaml"


def read_meta(meta: Path) -> dict[str, Any] | None:
    """A meta.yaml as a dict, or None when it is missing, unreadable or not a mapping."""
    try:
        data = yaml.load(meta.read_text(encoding="utf-8", errors="replace"), Loader=_Loader)
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def experiment_from_meta(meta: Path) -> Experiment | None:
    """The experiment a meta.yaml describes, or None when it is not an MLflow experiment's."""
    data = read_meta(meta)
    if data is None or not is_experiment_meta(data, meta.parent.name):
        return None
    return Experiment.from_rest(data)


def is_experiment_meta(data: dict[str, Any], folder_name: str) -> bool:
    """MLflow writes experiment_id (= the folder's name), name and lifecycle_stage."""
    return (
        str(data.get("experiment_id", "")) == folder_name
        and isinstance(data.get("name"), str)
        and data.get("lifecycle_stage") in ("active", "deleted")
    )


def read_sqlite_store(path: str, workspace: str = "") -> list[Experiment]:
    """Experiments of a SQLite store (of one ``workspace`` if given), opened read-only (older
    schemas lack the time columns)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} does not exist")
    conn = sqlite3.connect(schema.sqlite_uri(path), uri=True, timeout=10)
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(experiments)")}
        if not columns:
            raise StoreNotReadable(f"{path} holds no MLflow experiments table")
        wanted = ["experiment_id", "name", "creation_time", "last_update_time", "lifecycle_stage"]
        picked = [c if c in columns else "NULL" for c in wanted]
        where, args = ("", ()) if not workspace else (" WHERE workspace = ?", (workspace,))
        if workspace and "workspace" not in columns:
            where, args = " WHERE 0", ()  # a store from before workspaces has none
        sql = f"SELECT {', '.join(picked)} FROM experiments{where}"
        rows = conn.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise StoreNotReadable(f"{path} could not be read: {exc}") from exc
    finally:
        conn.close()
    return [Experiment.from_rest(dict(zip(wanted, row, strict=True))) for row in rows]


# -- naming ------------------------------------------------------------------------------------


def existing_names(
    project: Project,
    paths: AppPaths,
    *,
    base_url: str | None = None,
    allow_temporary_server: bool = True,
) -> list[str]:
    """Every experiment name in the project's store, deleted ones included.

    From ``base_url`` when the project's server runs (the tray knows), else from the store
    itself. A database server store (PostgreSQL, MySQL...) has no read-only path without
    MLflow: a temporary server is started for it (a few seconds) unless that is not allowed.
    """
    if base_url:
        experiments = fetch(base_url, include_deleted=True, workspace=project.workspace)
    else:
        store = project.parsed_store()
        try:
            experiments = read_store(store, workspace=project.workspace)
        except StoreNotReadable:
            if store.kind is not StoreKind.SQL or not allow_temporary_server:
                raise
            experiments = _via_temporary_server(project, paths)
    return [e.name for e in experiments]


def _via_temporary_server(project: Project, paths: AppPaths) -> list[Experiment]:
    from launcher.server.process import MlflowServer  # heavy; only for database servers

    server = MlflowServer(project, paths)
    try:
        url = server.start()
        return fetch(url, include_deleted=True)
    finally:
        server.stop()


def propose_name(
    project: Project,
    stage: str,
    description: str,
    paths: AppPaths,
    *,
    base_url: str | None = None,
    prefix: str | None = None,
) -> str:
    """The next conforming name for ``stage``: what the "New experiment name" dialog shows.

    ``prefix`` overrides the project's (for a project without one). Raises
    :class:`~launcher.model.naming.NamingError` for bad input, OSError/StoreNotReadable/
    ServerFailed when the store cannot be read.
    """
    use = project.prefix if prefix is None else prefix
    if not use:
        raise naming.NamingError(
            f"Project {project.name!r} has no experiment prefix: set one (e.g. "
            f"'{_suggest_prefix(project.name)}') or give one for this name."
        )
    naming.validate_stage(stage)
    naming.sanitize_description(description)  # bad input is reported before any slow read
    names = existing_names(project, paths, base_url=base_url)
    return naming.next_name(names, use, stage, description)


def _suggest_prefix(name: str) -> str:
    return (re.sub(r"\W+", "_", name.lower()).strip("_") or "project") + "_"
