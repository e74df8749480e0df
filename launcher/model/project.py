"""A project: a name, a store, and how to serve it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from launcher.model.stores import (
    DEFAULT_WORKSPACE,
    Store,
    StoreKind,
    parse_store,
    workspace_problem,
)

LOOPBACK = "127.0.0.1"


class ProjectError(ValueError):
    """A project that cannot be saved as given; the message is for the user."""


@dataclass
class Project:
    name: str
    store: str
    """The store as the user gave it (absolute); parsed with :func:`parse_store` when used."""
    prefix: str = ""
    """Experiment-name prefix that makes this project a folder of a shared store."""
    python: str = ""
    """Python interpreter to run MLflow from; empty means the launcher's own."""
    extra_args: list[str] = field(default_factory=list)
    """Extra ``mlflow server`` options, e.g. ``["--static-prefix", "/mlflow"]``."""
    artifacts: str = ""
    """Where uploaded artifacts go; empty means a folder per project in the data dir."""
    host: str = LOOPBACK
    port: int = 0
    """A fixed port, or 0 for a free one picked at each start."""
    access_key: bool = True
    """Guard the lean server with a per-server key (off for tools pointed at a fixed port)."""
    fast_view: bool = False
    """Serve a local read-only SQLite copy of a folder store (launcher.server.stores.fast_view)."""
    watch_runs: bool | None = None
    """The tray tells when a run ends or stalls; None: yes while the project is recent
    (launcher.model.runs.watched.watched)."""
    workspace: str = ""
    """One MLflow workspace of a SQL store or team server ('' for the whole store): served
    with workspaces on, opened, listed and logged into in that workspace only."""

    def parsed_store(self, *, windows: bool | None = None) -> Store:
        return parse_store(self.store, windows=windows)

    @property
    def slug(self) -> str:
        """A file-name-safe id, unique per name even on case-insensitive file systems."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", self.name).strip("-.")[:40]
        digest = hashlib.sha1(self.name.encode("utf-8")).hexdigest()[:6]
        return f"{safe or 'project'}-{digest}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Project:
        if not isinstance(data, dict):
            raise ProjectError("a project entry is not a table of settings")
        known = {f.name for f in fields(cls)}
        missing = [k for k in ("name", "store") if not isinstance(data.get(k), str)]
        if missing:
            raise ProjectError(f"a project entry lacks {' and '.join(missing)}")
        kwargs = {k: v for k, v in data.items() if k in known}
        if not isinstance(kwargs.get("extra_args", []), list):
            raise ProjectError(f"project {data['name']!r}: extra_args must be a list")
        project = cls(**kwargs)
        validate(project, check_store=False)
        return project


def validate(project: Project, *, check_store: bool = True) -> None:
    """Raise :class:`ProjectError` (or StoreError) for anything that would break the config.

    Loading skips the store check: a config shared between Windows and Linux may hold stores
    only one of them can serve, and that must not make the whole file unreadable.
    """
    name = project.name.strip()
    if not name:
        raise ProjectError("A project needs a name.")
    if name != project.name:
        raise ProjectError("A project name cannot start or end with spaces.")
    if any(ch in name for ch in "\r\n\t"):
        raise ProjectError("A project name must be a single line.")
    if not isinstance(project.port, int) or not 0 <= project.port <= 65535:
        raise ProjectError(f"Port {project.port!r} is not a port number (0 picks a free one).")
    if not isinstance(project.access_key, bool):
        raise ProjectError("access_key must be true or false.")
    if not all(isinstance(a, str) for a in project.extra_args):
        raise ProjectError("Extra server arguments must be text.")
    if not isinstance(project.fast_view, bool):
        raise ProjectError("fast_view must be true or false.")
    if project.watch_runs is not None and not isinstance(project.watch_runs, bool):
        raise ProjectError("watch_runs must be true, false or null.")
    if not isinstance(project.workspace, str):
        raise ProjectError("workspace must be text.")
    if project.workspace:
        bad = workspace_problem(project.workspace)
        if bad and project.workspace != DEFAULT_WORKSPACE:
            raise ProjectError(bad[0].upper() + bad[1:] + ".")
    if check_store:
        store = parse_store(project.store)
        if project.workspace and store.kind is StoreKind.FOLDER:
            raise ProjectError(
                "Workspaces live in SQL stores and team servers; a folder store has none "
                "(gather it into a database first: mlflow-launcher gather NAME --to URL)."
            )
        if project.fast_view and store.kind is not StoreKind.FOLDER:
            raise ProjectError(
                "Fast view is for folder stores (a local copy of a share); this store is a "
                f"{store.kind.label}, which is fast already."
            )
