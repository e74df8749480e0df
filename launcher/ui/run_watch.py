"""The tray's run watch: every interval, the watched projects' runs are read in a thread and
what happened becomes notifications; the "Active runs" submenu reads what was seen last.

One notification per event, a burst (a sweep ending 20 runs) as one summary; a store that stops
answering gives one "store unreachable" notice and watching resumes when it is back. The state
seen last is kept in the data folder (``run-watch.json``), so a restarted tray shows nothing
twice. A click on a run's notification (or its menu entry) opens the run's page: the project's
server is started first when needed, and the link carries its access key (``browser.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal, SignalInstance, Slot

from launcher.model import links
from launcher.model.catalog import Listed
from launcher.model.config import Config, Settings
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.runs.events import FINISHED, RunEvent, RunInfo, notices
from launcher.model.runs.watched import watched_projects
from launcher.server.manager import ServerManager
from launcher.server.runs.watcher import Look, RunWatcher, load_state, save_state
from launcher.server.signals import emit

log = logging.getLogger(__name__)
OFF_CHECK_MS = 60_000
SAVE_EVERY_S = 600.0


class RunWatchHost(Protocol):
    """What the watch needs from its owner (the controller)."""

    config: Config
    manager: ServerManager
    notify: SignalInstance

    def listed(self) -> list[Listed]: ...

    def start(self, name: str) -> None: ...

    def open_link(self, name: str, url: str) -> None: ...


class RunWatch(QObject):
    """Looks at the watched projects' runs on a timer; emits ``notify`` for what is news."""

    _looked = Signal(object)
    """Worker thread -> GUI thread: the :class:`Look`, always queued."""

    def __init__(self, paths: AppPaths, host: RunWatchHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._paths = paths
        self._host = host
        self._manager = manager = host.manager
        self._notify = notify = host.notify
        state = load_state(paths)
        self._first_ever = state is None
        self.watcher = RunWatcher(state)
        self._saved = self.watcher.state.to_text(times=False)
        self._saved_at = time.monotonic()
        self._busy = False
        self.last_event: RunEvent | None = None
        """The run of the newest notification: a click on it opens that run."""
        self._pending: dict[str, str] = {}
        """Project -> the run page to open once its server (started for it) is ready."""
        self.looks = 0
        self._looked.connect(self._on_looked, Qt.ConnectionType.QueuedConnection)
        manager.ready.connect(self._on_ready)
        notify.connect(self._on_notice)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.look)
        self.configure()

    # -- what the views read -------------------------------------------------------------------

    def _settings(self) -> Settings:
        return self._host.config.settings

    def watched(self) -> list[Project]:
        """The projects whose runs are watched now (their choice, else recent ones), team
        projects included."""
        projects = [listed.project for listed in self._host.listed()]
        now = time.time()
        first_seen = self.watcher.state.first_seen
        for p in projects:
            if p.name not in first_seen:  # on the very first watch, every project is old
                first_seen[p.name] = 0.0 if self._first_ever else now
        self._first_ever = False
        return watched_projects(projects, self._settings().opened, first_seen, now)

    def active(self) -> list[RunInfo]:
        """The active runs seen at the last look, the most recently started first."""
        return sorted(self.watcher.active, key=lambda r: -r.start_time)

    @property
    def enabled(self) -> bool:
        return self._settings().watch_interval_seconds > 0

    # -- looking -------------------------------------------------------------------------------

    def configure(self) -> bool:
        """Follow the interval setting, read at each tick; off (0), it is read every minute.
        True when watching is on."""
        seconds = self._settings().watch_interval_seconds
        wanted = seconds * 1000 if seconds > 0 else OFF_CHECK_MS
        if self._timer.interval() != wanted or not self._timer.isActive():
            self._timer.start(wanted)
        return seconds > 0

    @Slot()
    def look(self) -> None:
        """Read the watched projects' runs in a thread (a look still under way is waited for)."""
        if not self.configure() or self._busy:
            return
        projects = self.watched()
        self.watcher.stall_minutes = max(1, self._settings().stall_minutes)
        self._busy = True
        threading.Thread(target=self._look, args=(projects,), name="run-watch", daemon=True).start()

    def _look(self, projects: list[Project]) -> None:
        try:
            look = self.watcher.look(projects)
        except Exception:  # a reader's bug must not stop watching for good
            log.exception("run watch look failed")
            look = Look()
        emit(self._looked, look)

    @Slot(object)
    def _on_looked(self, look: Look) -> None:
        self._busy = False
        self.looks += 1
        for name, why in look.unreachable:
            emit(self._notify, f"{name}: runs not watched, store unreachable",
                 f"{why}. Watching resumes when it answers.", "warning", name)  # fmt: skip
        for title, text, event in notices(look.events):
            level = "info" if event is None or event.kind == FINISHED else "warning"
            # In the app log too: what a user was told (the Windows installer check reads it).
            log.info("run event %s: %s: %s", event.kind if event else "SUMMARY", title, text)
            emit(self._notify, title, text, level, event.run.project if event else "")
            self.last_event = event
        self._save()

    def _save(self) -> None:
        """Keep the state when it changed, else every :data:`SAVE_EVERY_S` at most: a look
        that changed nothing does not write (the reported runs stop replays either way)."""
        text = self.watcher.state.to_text(times=False)
        now = time.monotonic()
        if text != self._saved or now - self._saved_at >= SAVE_EVERY_S:
            save_state(self._paths, self.watcher.state)
            self._saved, self._saved_at = text, now

    # -- opening a run ------------------------------------------------------------------------

    def open_run(self, run: RunInfo) -> None:
        """The run's page in the browser; its project's server is started first if needed."""
        url = self._manager.url(run.project)
        if url:
            self._host.open_link(run.project, self._run_url(url, run.project, run.experiment_id,
                                                            run.run_id))  # fmt: skip
            return
        self._pending[run.project] = f"{run.experiment_id}\n{run.run_id}"
        self._host.start(run.project)

    def open_last(self) -> bool:
        """A click on the newest notification: True when it was a run's (and it opens)."""
        if self.last_event is None:
            return False
        self.open_run(self.last_event.run)
        return True

    @Slot(str, str)
    def _on_ready(self, name: str, url: str) -> None:
        pending = self._pending.pop(name, None)
        if pending is not None:
            experiment_id, run_id = pending.split("\n")
            self._host.open_link(name, self._run_url(url, name, experiment_id, run_id))

    def _run_url(self, url: str, name: str, experiment_id: str, run_id: str) -> str:
        """The run's page, in the project's workspace when it is one (``?workspace=``)."""
        project = next(
            (p for p in (x.project for x in self._host.listed()) if p.name == name), None
        )
        workspace = project.workspace if project is not None else ""
        return links.in_workspace(links.run_url(url, experiment_id, run_id), workspace)

    @Slot(str, str, str, str)
    def _on_notice(self, title: str, _text: str, _level: str, _project: str) -> None:
        """Another notification came after the run's: a click is then about that one."""
        if self.last_event is not None and title != self.last_event.title:
            self.last_event = None
