"""One look at every watched project's runs: the events since the last look, and who is active.

Shared by the tray (``launcher.ui.run_watch``, in a worker thread) and ``mlflow-launcher runs
--follow``. Each project keeps its reader between looks (a folder store's reader remembers the
mtimes it saw, so a look reads only what changed). A store that cannot be read is reported once
as unreachable, and once as back; its runs' state is kept meanwhile, so nothing is replayed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from launcher.model import atomic
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.runs.events import (
    DEFAULT_STALL_MINUTES,
    SKEW_MS,
    ProjectState,
    RunEvent,
    RunInfo,
    WatchState,
    detect,
)
from launcher.model.stores import StoreError, StoreKind
from launcher.server.stores.reachable import path_exists

log = logging.getLogger(__name__)
STATE_FILE = "run-watch.json"
SHARE_TIMEOUT = 10.0


class RunReader(Protocol):
    def poll(self, since_ms: int) -> list[RunInfo]: ...


def reader_for(project: Project) -> RunReader:
    """The reader of a project's store kind; raises StoreError for a store it cannot parse."""
    store = project.parsed_store()
    if store.kind is StoreKind.FOLDER:
        from launcher.server.runs.folder import FolderRuns

        assert store.path is not None
        return FolderRuns(store.path, project.name, project.prefix)
    if store.kind is StoreKind.REMOTE:
        from launcher.server.runs.remote import RemoteRuns

        return RemoteRuns(project.store.strip(), project.name, project.prefix, project.workspace)
    from launcher.server.runs.sql import SqlRuns

    return SqlRuns(store, project.name, project.prefix, project.workspace)


@dataclass
class Look:
    """What one look found."""

    events: list[RunEvent] = field(default_factory=list)
    active: list[RunInfo] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)
    """(project, why) for stores that stopped answering at this look (each said once)."""
    back: list[str] = field(default_factory=list)
    """Projects whose store answers again."""
    seconds: float = 0.0


class RunWatcher:
    """Readers and state of the watched projects; :meth:`look` is called from one thread."""

    def __init__(self, state: WatchState | None = None, *, stall_minutes: float = 0) -> None:
        self.state = state or WatchState()
        self.stall_minutes = stall_minutes or DEFAULT_STALL_MINUTES
        self._readers: dict[str, tuple[tuple[str, str, str], RunReader, str | None]] = {}
        """Project -> (its store and prefix, its reader, the path to ask first on a share)."""
        self._down: set[str] = set()
        self.active: list[RunInfo] = []

    def look(self, projects: list[Project], now_ms: int | None = None) -> Look:
        started = time.perf_counter()
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        look = Look()
        names = {p.name for p in projects}
        for gone in set(self._readers) - names:
            del self._readers[gone]
        for gone in set(self.state.projects) - names:
            del self.state.projects[gone]  # unwatched: watching again starts afresh
        self._down &= names
        for project in projects:
            self._look_at(project, now, look)
        self.active = look.active
        look.seconds = time.perf_counter() - started
        return look

    def _look_at(self, project: Project, now: int, look: Look) -> None:
        name = project.name
        try:
            reader, share = self._reader(project)
            if share is not None and path_exists(share, SHARE_TIMEOUT) is not True:
                raise OSError(f"{share} does not answer (share offline or VPN down?)")
            state = self.state.projects.setdefault(name, ProjectState())
            since = (state.seen_at or now) - SKEW_MS
            runs = reader.poll(since)
        except (OSError, ValueError, StoreError) as exc:
            if name not in self._down:
                self._down.add(name)
                look.unreachable.append((name, str(exc) or type(exc).__name__))
                log.info("runs of %s not read: %s", name, exc)
            return
        if name in self._down:
            self._down.discard(name)
            look.back.append(name)
        stall_ms = int(self.stall_minutes * 60_000)
        look.events.extend(detect(state, runs, now_ms=now, stall_ms=stall_ms))
        look.active.extend(r for r in runs if r.active)

    def _reader(self, project: Project) -> tuple[RunReader, str | None]:
        key = (project.store, project.prefix, project.workspace)
        known = self._readers.get(project.name)
        if known is not None and known[0] == key:
            return known[1], known[2]
        if known is not None:
            self.state.projects.pop(project.name, None)  # another store: start afresh
        reader = reader_for(project)
        self._readers[project.name] = (key, reader, _on_share(project))
        return reader, self._readers[project.name][2]


def _on_share(project: Project) -> str | None:
    """A folder or SQLite store's path when it is on a network share: a dead share hangs a
    read for a minute, so each look first asks whether it answers, with a timeout."""
    path = project.parsed_store().path
    if path is None:
        return None
    from launcher.server.stores.shares import network_share

    return path if network_share(path) else None


def state_path(paths: AppPaths) -> Path:
    return paths.data_dir / STATE_FILE


def load_state(paths: AppPaths) -> WatchState | None:
    """The state the last tray kept, or None when there is none yet (the first watch ever)."""
    try:
        text = state_path(paths).read_text(encoding="utf-8")
    except OSError:
        return None
    return WatchState.from_text(text)


def save_state(paths: AppPaths, state: WatchState) -> None:
    """Kept in the launcher's own data folder (never in a store), whole or not at all."""
    try:
        atomic.write_text(state_path(paths), state.to_text())
    except OSError as exc:
        log.warning("run watch state not saved: %s", exc)
