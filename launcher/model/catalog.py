"""Team sharing: projects exported to a file, and team catalogs the launcher subscribes to.

One format for both, the config's own (``{"schema": 1, "projects": [...]}``), so a person can
read it, a config.json can be imported, and an export can be opened by ``config_from_dict``.
Only what means the same on every machine is shared: name, store (without a password, see
:func:`shareable`), prefix and server arguments.
The Python environment, host, port and artifacts folder are this machine's business (a path to
someone's interpreter, a port free here, a choice to expose the UI to the LAN, where *my* uploads
go) and are dropped on export *and* on import, so importing a colleague's raw config.json is safe.

Subscriptions (``Config.catalogs`` holds the files' paths): each catalog is read at start and on
demand, and its projects are listed as team projects, read-only. Every good read is cached in
the data dir; a catalog that cannot be read (share offline, file gone or broken) keeps its last
known copy and says why. Nothing ever writes to a catalog file: editing a team project means
importing it, which makes a local copy.

Precedence: a local project wins over a team project of the same name (case-insensitive, as
project names are), which is then listed as shadowed: the local one is the user's own choice
(often an imported copy they tuned), and one name must mean one project for ``serve NAME``.
Between catalogs, the one subscribed first wins.

Reading a file on an offline share can hang for a long time, so reads give up after a timeout;
the tray still calls :meth:`Catalogs.refresh` off the GUI thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from launcher.model import atomic, credentials
from launcher.model.config import SCHEMA_VERSION, Config, ConfigError, config_from_dict
from launcher.model.paths import AppPaths
from launcher.model.project import Project

SHARED_FIELDS = ("name", "store", "prefix", "extra_args")
"""What an export or a catalog carries; everything else is machine-specific."""
READ_TIMEOUT = 15.0
"""Seconds to wait for a catalog file on a share before using the cached copy."""


class CatalogError(Exception):
    """A catalog or export file that cannot be used; the message is for the user."""


class CatalogUnreadable(CatalogError):
    """The file could not be reached or read (missing, offline share, permission, timeout)."""


class CatalogInvalid(CatalogError):
    """The file was read but is not a project file (bad JSON, wrong schema, bad projects)."""


def shareable(project: Project) -> Project:
    """The project as it is shared: the machine-specific settings back to their defaults.

    A store URL never carries a password in an export or a catalog (nor in a catalog's cached
    copy or an imported project): one found in a file goes to this user's credential store, when
    there is one, and a colleague who adds the project gives theirs once
    (``mlflow-launcher password NAME``).
    """
    store, _ = credentials.split(credentials.secure(project.store))
    return Project(
        name=project.name,
        store=store,
        prefix=project.prefix,
        extra_args=list(project.extra_args),
    )


def export_dict(projects: Iterable[Project]) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "projects": [{k: getattr(p, k) for k in SHARED_FIELDS} for p in projects],
    }


def projects_from_dict(data: Any) -> list[Project]:
    """Projects of an export, catalog or whole config.json, stripped of machine settings."""
    try:
        config = config_from_dict(data)
    except ConfigError as exc:
        raise CatalogInvalid(str(exc)) from exc
    return [shareable(p) for p in config.projects]


def write_export(path: str | Path, projects: Iterable[Project]) -> list[Project]:
    """Write the shareable form of ``projects`` to ``path`` atomically; returns what was written."""
    shared = [shareable(p) for p in projects]
    _write_json(Path(path), export_dict(shared))
    return shared


def read_file(path: str | Path, timeout: float = READ_TIMEOUT) -> list[Project]:
    """The projects of an export or catalog file, machine settings dropped.

    Raises :class:`CatalogUnreadable` or :class:`CatalogInvalid`; never hangs longer than
    ``timeout`` on an offline share.
    """
    text = _read_text(Path(path), timeout)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} (line {exc.lineno})"
        raise CatalogInvalid(f"{path} is not a project file: {reason}") from exc
    try:
        return projects_from_dict(data)
    except CatalogInvalid as exc:
        raise CatalogInvalid(f"{path} is not a project file: {exc}") from exc


def _read_text(path: Path, timeout: float) -> str:
    outcome: list[str | BaseException] = []

    def work() -> None:
        try:
            outcome.append(path.read_text(encoding="utf-8-sig"))  # Notepad writes a BOM
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=work, name="catalog-read", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise CatalogUnreadable(f"{path} did not answer within {timeout:.0f} s")
    result = outcome[0]
    if isinstance(result, FileNotFoundError):
        raise CatalogUnreadable(f"{path} does not exist (any more)")
    if isinstance(result, UnicodeDecodeError):
        raise CatalogInvalid(f"{path} is not a text file in UTF-8")
    if isinstance(result, OSError):
        raise CatalogUnreadable(f"{path} could not be read: {result.strerror or result}")
    if isinstance(result, BaseException):
        raise result
    return result


def _write_json(path: Path, data: Any) -> None:
    atomic.write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# -- import ------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    added: list[Project] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Names left alone because a local project already has them."""


def import_projects(
    config: Config, projects: Iterable[Project], names: Iterable[str] = ()
) -> ImportResult:
    """Add ``projects`` (or only those named) to ``config`` as local projects.

    An existing project is never overwritten: its name is reported as skipped. Raises
    :class:`CatalogInvalid` for a requested name the file does not hold.
    """
    available = {p.name.casefold(): p for p in projects}
    wanted = list(names)
    missing = [n for n in wanted if n.casefold() not in available]
    if missing:
        known = ", ".join(p.name for p in available.values()) or "none"
        raise CatalogInvalid(f"not in the file: {', '.join(missing)} (it holds: {known})")
    chosen = [available[n.casefold()] for n in wanted] if wanted else list(available.values())
    result = ImportResult()
    for project in chosen:
        if config.find(project.name) is not None:
            result.skipped.append(project.name)
        else:
            copy = shareable(project)
            config.add(copy)
            result.added.append(copy)
    return result


# -- subscriptions -----------------------------------------------------------------------------


@dataclass
class CatalogStatus:
    """What is known of one subscribed catalog."""

    source: str
    """The catalog file's path, as subscribed."""
    projects: list[Project] = field(default_factory=list)
    """Its projects: read just now, or the last known copy when :attr:`error` is set."""
    fetched_at: float | None = None
    """When the projects were last read from the file (epoch seconds); None: never."""
    error: str | None = None
    """Why the last attempt to read the file failed; None when it was read."""

    @property
    def stale(self) -> bool:
        return self.error is not None

    def describe(self) -> str:
        """One line for a menu tooltip or the CLI."""
        count = f"{len(self.projects)} project{'s' if len(self.projects) != 1 else ''}"
        if self.error is None:
            return f"{self.source}: {count}, read {_when(self.fetched_at)}"
        if self.fetched_at is None:
            return f"{self.source}: could not be read ({self.error}); no copy known yet"
        return (
            f"{self.source}: could not be read ({self.error}); showing the last known copy "
            f"({count}, read {_when(self.fetched_at)})"
        )


def _when(stamp: float | None) -> str:
    return "never" if stamp is None else datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


class Catalogs:
    """Reads subscribed catalogs, caching every good copy in ``<data>/catalogs``."""

    def __init__(self, paths: AppPaths, *, timeout: float = READ_TIMEOUT) -> None:
        self.cache_dir = paths.data_dir / "catalogs"
        self.timeout = timeout

    def cache_path(self, source: str) -> Path:
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]
        return self.cache_dir / f"{digest}.json"

    def refresh(self, sources: Iterable[str]) -> list[CatalogStatus]:
        """Read every catalog now; one that cannot be read falls back to its cached copy."""
        return [self.refresh_one(s) for s in sources]

    def refresh_one(self, source: str) -> CatalogStatus:
        try:
            projects = read_file(source, self.timeout)
        except CatalogError as exc:
            status = self._cached(source)
            status.error = str(exc)
        else:
            status = CatalogStatus(source, projects, time.time())
        with contextlib.suppress(OSError):  # a cache we cannot write only costs the next start
            _write_json(
                self.cache_path(source),
                {
                    "source": source,
                    "fetched_at": status.fetched_at,
                    "error": status.error,
                    "catalog": export_dict(status.projects),
                },
            )
        return status

    def cached(self, sources: Iterable[str]) -> list[CatalogStatus]:
        """The last known state of each catalog, without touching the catalog files."""
        return [self._cached(s) for s in sources]

    def _cached(self, source: str) -> CatalogStatus:
        try:
            data = json.loads(self.cache_path(source).read_text(encoding="utf-8"))
            projects = projects_from_dict(data["catalog"])
            fetched = data.get("fetched_at")
            error = data.get("error")
            return CatalogStatus(
                source,
                projects,
                float(fetched) if isinstance(fetched, (int, float)) else None,
                error if isinstance(error, str) else None,
            )
        except FileNotFoundError:
            return CatalogStatus(source, error="not read yet")
        except (OSError, ValueError, KeyError, TypeError, CatalogError):
            return CatalogStatus(source, error="its cached copy is unreadable")

    def forget(self, source: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.cache_path(source).unlink()


# -- the merged list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A project as the menu lists it: local, or a read-only team project from a catalog."""

    project: Project
    catalog: str | None = None
    """The catalog file a team project comes from; None for a local project."""

    @property
    def team(self) -> bool:
        return self.catalog is not None

    @property
    def read_only(self) -> bool:
        return self.team


@dataclass
class Merged:
    projects: list[Listed] = field(default_factory=list)
    """Local projects in config order, then team projects in catalog order."""
    shadowed: list[Listed] = field(default_factory=list)
    """Team projects hidden because a project listed earlier has the same name."""

    def find(self, name: str) -> Listed | None:
        folded = name.casefold()
        return next((x for x in self.projects if x.project.name.casefold() == folded), None)

    @property
    def team(self) -> list[Listed]:
        return [x for x in self.projects if x.team]


def merge(local: Iterable[Project], statuses: Iterable[CatalogStatus]) -> Merged:
    """Local projects plus team projects, a local name winning (see the module docstring)."""
    merged = Merged([Listed(p) for p in local])
    taken = {x.project.name.casefold() for x in merged.projects}
    for status in statuses:
        for project in status.projects:
            entry = Listed(project, status.source)
            if project.name.casefold() in taken:
                merged.shadowed.append(entry)
            else:
                taken.add(project.name.casefold())
                merged.projects.append(entry)
    return merged
