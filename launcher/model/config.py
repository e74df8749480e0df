"""The launcher's config file: projects and settings, kept safe.

Human-readable JSON with a schema version. Writes are atomic (temp file + ``os.replace``) under a
file lock, so the tray and the CLI can both change it. A file that cannot be read, or that a newer
launcher wrote, is moved aside with a timestamp and reported, never overwritten: nothing is lost.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from launcher.model import atomic, credentials
from launcher.model.paths import AppPaths
from launcher.model.project import Project, ProjectError

if TYPE_CHECKING:
    from filelock import BaseFileLock

SCHEMA_VERSION = 1
DEFAULT_PROJECT = "Local"
_KNOWN_KEYS = frozenset({"schema", "settings", "catalogs", "projects"})


@dataclass
class Settings:
    open_browser: bool = True
    switch_policy: str = "keep"
    """'keep' leaves other servers running when switching; 'stop' stops them."""
    idle_stop_minutes: int = 30
    """With 'keep', stop a server nobody used for this long; 0 never stops."""
    start_at_login: bool = False
    last_project: str = ""
    share_usage_data: bool = False
    """MLflow's own usage telemetry from the servers we start: off unless the user opts in."""
    keep_warm: bool = True
    """Keep the host server warm (MLflow imported, nothing served yet), so any click serves in
    well under a second. One host serves every project of a Python environment, so this is
    one process, whatever the number of projects. (Configs from before the host may still hold
    ``warm_spares``, the number of spares then kept: it is read past, and kept in the file for
    the launcher that wrote it.)"""
    recent: list[str] = field(default_factory=list)
    """Recently opened projects, most recent first (the menu lists a few at the top)."""
    view_refresh_minutes: int = 15
    """A fast view opened on a view older than this is refreshed in the background."""
    updates: str = "ask"
    """Check the update feed once a day: 'ask' (not asked yet), 'on' or 'off'
    (launcher.model.updates)."""
    update_feed: str = ""
    """A team's own feed (a folder on a share or a URL); empty: the installer's, else GitHub."""
    last_update_check: float = 0.0
    """When the feed was last read (time.time()), so a check happens at most once a day."""
    watch_interval_seconds: int = 30
    """How often the tray looks at the watched projects' runs (launcher.ui.run_watch); 0: off."""
    stall_minutes: int = 15
    """A RUNNING run with nothing logged for this long "seems stalled" (a trainer killed hard)."""
    opened: dict[str, float] = field(default_factory=dict)
    """Project name -> when it was last opened (time.time()): recent projects' runs are watched."""

    @classmethod
    def from_dict(cls, data: Any) -> Settings:
        if not isinstance(data, dict):
            return cls()
        known = {f.name: f for f in fields(cls)}
        defaults = cls()
        kwargs = {
            k: v
            for k, v in data.items()
            if k in known and isinstance(v, type(getattr(defaults, k)))
        }
        return cls(**kwargs)


@dataclass
class Config:
    projects: list[Project] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)
    catalogs: list[str] = field(default_factory=list)
    """Paths of team catalog files this launcher subscribes to (see launcher.model.catalog)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Top-level keys this launcher does not know (a newer one wrote them, schema still 1):
    kept and written back as they were, so an older launcher editing the file loses nothing."""

    def find(self, name: str) -> Project | None:
        folded = name.casefold()
        return next((p for p in self.projects if p.name.casefold() == folded), None)

    def get(self, name: str) -> Project:
        project = self.find(name)
        if project is None:
            known = ", ".join(p.name for p in self.projects) or "none"
            raise ProjectError(f"No project named {name!r} (projects: {known}).")
        return project

    def add(self, project: Project) -> None:
        if self.find(project.name) is not None:
            raise ProjectError(f"A project named {project.name!r} already exists.")
        self.projects.append(project)

    def replace(self, old_name: str, project: Project) -> None:
        current = self.get(old_name)
        other = self.find(project.name)
        if other is not None and other is not current:
            raise ProjectError(f"A project named {project.name!r} already exists.")
        self.projects[self.projects.index(current)] = project
        if self.settings.last_project == current.name:
            self.settings.last_project = project.name

    def remove(self, name: str) -> Project:
        project = self.get(name)
        self.projects.remove(project)
        return project

    def to_dict(self) -> dict[str, Any]:
        known = {
            "schema": SCHEMA_VERSION,
            "settings": asdict(self.settings),
            "catalogs": list(self.catalogs),
            "projects": [p.to_dict() for p in self.projects],
        }
        return {**known, **{k: v for k, v in self.extra.items() if k not in known}}


class ConfigError(Exception):
    """The config file could not be read; the message says where the old one went."""


@dataclass
class Loaded:
    config: Config
    problem: str | None = None
    """A plain-words note when the file on disk was moved aside and defaults were used."""


def default_config(paths: AppPaths) -> Config:
    """First run: one project on a store of our own, so the launcher works with nothing set up."""
    local = Project(name=DEFAULT_PROJECT, store=str(paths.default_store))
    return Config(projects=[local], settings=Settings(last_project=DEFAULT_PROJECT))


def config_from_dict(data: Any) -> Config:
    if not isinstance(data, dict):
        raise ConfigError("it is not a JSON object")
    version = data.get("schema")
    if version != SCHEMA_VERSION:
        raise ConfigError(
            f"it has schema version {version!r}, and this launcher reads version {SCHEMA_VERSION}"
            " (was it written by a newer launcher?)"
        )
    raw_projects = data.get("projects", [])
    if not isinstance(raw_projects, list):
        raise ConfigError("its 'projects' is not a list")
    config = Config(
        settings=Settings.from_dict(data.get("settings")),
        extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
    )
    catalogs = data.get("catalogs", [])
    config.catalogs = (
        [c for c in catalogs if isinstance(c, str)] if isinstance(catalogs, list) else []
    )
    for raw in raw_projects:
        try:
            config.add(Project.from_dict(raw))
        except ProjectError as exc:
            raise ConfigError(str(exc)) from exc
    return config


class ConfigStore:
    """Reads and writes one config file safely."""

    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths
        self.path = paths.config_file
        self._lock: BaseFileLock | None = None

    def load(self) -> Loaded:
        # Writes replace the file atomically, so a plain read sees a whole file, old or new;
        # the lock is only needed to create the file or move a bad one aside.
        try:
            loaded = Loaded(config_from_dict(json.loads(self.path.read_text(encoding="utf-8"))))
        except (OSError, UnicodeDecodeError, ValueError, ConfigError):
            pass
        else:
            if not has_passwords(loaded.config) or not credentials.available():
                return loaded
            # A config from before the credential store: move its passwords there, once.
        with self._locked():
            loaded = self._load_unlocked()
            if has_passwords(loaded.config):
                self._write(loaded.config)
            return loaded

    def save(self, config: Config) -> None:
        with self._locked():
            self._write(config)

    def update(self, change: Callable[[Config], None]) -> Config:
        """Read, change and write under the lock, so two writers never lose each other's edits."""
        with self._locked():
            loaded = self._load_unlocked()
            change(loaded.config)
            self._write(loaded.config)
            return loaded.config

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock is None:
            # Imported on first use: filelock costs the tray start-up 20 ms and some memory.
            from filelock import FileLock

            self._lock = FileLock(str(self.path) + ".lock", timeout=15)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            yield

    def _load_unlocked(self) -> Loaded:
        if not self.path.exists():
            config = default_config(self.paths)
            self._write(config)
            return Loaded(config)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Loaded(config_from_dict(data))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ConfigError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            aside = self._move_aside()
            config = default_config(self.paths)
            self._write(config)
            return Loaded(
                config,
                f"The config file {self.path} could not be used ({reason}). It was kept as "
                f"{aside.name} in the same folder, and the launcher started with defaults.",
            )

    def _move_aside(self) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.{stamp}.bad")
        n = 1
        while aside.exists():
            aside = self.path.with_name(f"{self.path.name}.{stamp}-{n}.bad")
            n += 1
        atomic.replace(self.path, aside)
        return aside

    def _write(self, config: Config) -> None:
        secure_passwords(config)
        text = json.dumps(config.to_dict(), indent=2, ensure_ascii=False) + "\n"
        # Private: a database URL in it may carry a password (no OS credential store).
        atomic.write_text(self.path, text, private=True, durable=True)


def has_passwords(config: Config) -> bool:
    """Whether a project's store URL carries a password (in the file, not the credential store)."""
    return any(credentials.split(p.store)[1] is not None for p in config.projects)


def secure_passwords(config: Config) -> bool:
    """Move every password in a project's store URL to the OS credential store.

    A project whose password the store refuses (or when there is none) keeps it in its URL, in
    the private config: nothing is lost midway. True when a project changed.
    """
    changed = False
    for project in config.projects:
        if credentials.split(project.store)[1] is None:
            continue
        secured = credentials.secure(project.store)
        if secured != project.store:
            project.store = secured
            changed = True
    return changed


def last_used(config: Config) -> str:
    """The project a nameless ``serve`` (or a start without a desktop) serves.

    The last one opened while it still exists; else the first-run project ``Local``.
    """
    last = config.settings.last_project
    if last and config.find(last) is not None:
        return last
    return DEFAULT_PROJECT
