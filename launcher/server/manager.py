"""Every project's server, driven from the GUI thread without ever blocking it.

The tray only says "open this" or "stop that"; this object owns one server per project, runs the
blocking :meth:`MlflowServer.start`/``stop`` in worker threads and reports back through queued
Qt signals, so every slot runs in the GUI thread. It also holds the switching policy (keep the
others running and stop idle ones, or stop the others) and opens the browser.

QtCore only, so it can be tested without widgets; the server class and the browser opener are
injected, which lets most tests use a stub server that starts in milliseconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import access_key, browser
from launcher.server.browser import Opener, open_in_browser
from launcher.server.checks.failures import Cause, Failure, ServerFailed
from launcher.server.signals import emit
from launcher.server.state import State

log = logging.getLogger(__name__)

POLICY_KEEP = "keep"
POLICY_STOP = "stop"
IDLE_CHECK_MS = 60_000
STOP_ALL_TIMEOUT = 30.0
"""Longest wait for every tree to be gone at quit: servers stop in parallel, ~5 s at worst each."""


class ServerLike(Protocol):
    """What the manager needs of a server: :class:`MlflowServer`'s interface, or a test stub."""

    state: State
    url: str | None
    access_key: str | None
    port: int | None
    failure: Failure | None
    log_path: Path
    last_activity: float
    started_at: float | None

    @property
    def pid(self) -> int | None: ...

    def start(self) -> str: ...

    def stop(self, timeout: float = ...) -> None: ...

    def wait(self) -> int | None: ...

    def log_tail(self, lines: int = ...) -> list[str]: ...


ServerFactory = Callable[..., ServerLike]
"""Called as ``factory(project, paths, upgrade_schema=bool, on_change=callback)``."""


def mlflow_server(project: Project, paths: AppPaths, **kwargs: Any) -> ServerLike:
    """The real server factory, importing the process code only when a server starts."""
    from launcher.server.process import MlflowServer

    return MlflowServer(project, paths, **kwargs)


@dataclass(eq=False)
class _Entry:
    project: Project
    server: ServerLike
    open_when_ready: bool = False
    busy: bool = False
    """A start (or restart) is under way: shown as starting even before the server says so."""
    threads: list[threading.Thread] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    """Set by a stop: a start that was not under way yet then stops its server at once.

    Needed because :meth:`MlflowServer.start` forgets a stop that came before it began."""


class ServerManager(QObject):
    """One server per project, started and stopped off the GUI thread.

    Its worker threads emit its signals, so it must outlive them: give it a parent (the tray
    app does) or keep it until :meth:`stop_all` with ``wait=True`` returned.
    """

    stateChanged = Signal(str)
    """A project's state may have changed (name); read it back with :meth:`state`."""
    ready = Signal(str, str)
    """A project's server answered ``/health`` (name, url)."""
    failed = Signal(str, object)
    """A start failed or a running server died (name, :class:`Failure`)."""
    idleStopped = Signal(str)
    """A server was stopped because nobody used it for the idle time (name)."""

    _event = Signal(str, object, object)
    """Worker threads -> GUI thread: (kind, server, payload), always queued."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        server_factory: ServerFactory = mlflow_server,
        opener: Opener = open_in_browser,
        idle_check_ms: int = IDLE_CHECK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._paths = paths
        self._factory = server_factory
        self._opener = opener
        self._entries: dict[str, _Entry] = {}
        self._threads: set[threading.Thread] = set()
        self._threads_lock = threading.Lock()
        self.policy = POLICY_KEEP
        self.idle_minutes = 30
        self.open_browser = True
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(idle_check_ms)
        self._idle_timer.timeout.connect(self.check_idle)
        self._idle_timer.start()

    # -- settings ----------------------------------------------------------------------------

    def configure(self, *, policy: str, idle_minutes: int, open_browser: bool) -> None:
        """Take the general settings (switching policy, idle stop, browser)."""
        self.policy = policy if policy in (POLICY_KEEP, POLICY_STOP) else POLICY_KEEP
        self.idle_minutes = max(0, int(idle_minutes))
        self.open_browser = open_browser

    # -- queries -----------------------------------------------------------------------------

    def names(self) -> list[str]:
        return list(self._entries)

    def server(self, name: str) -> ServerLike | None:
        entry = self._entries.get(name)
        return entry.server if entry else None

    def state(self, name: str) -> State:
        entry = self._entries.get(name)
        if entry is None:
            return State.STOPPED
        if entry.busy and entry.server.state is not State.RUNNING:
            return State.STARTING
        return entry.server.state

    def url(self, name: str) -> str | None:
        """A running project's URL, as shown (without its key)."""
        entry = self._entries.get(name)
        if entry is None or entry.server.state is not State.RUNNING:
            return None
        return entry.server.url

    def link(self, name: str) -> str | None:
        """A running project's URL carrying its server's key: what is opened, copied and
        called (``access_key.with_key``; REST calls move the key to a header)."""
        url = self.url(name)
        entry = self._entries.get(name)
        return access_key.with_key(url, entry.server.access_key) if url and entry else None

    def failure(self, name: str) -> Failure | None:
        entry = self._entries.get(name)
        if entry is None or self.state(name) is not State.FAILED:
            return None
        return entry.server.failure

    def log_path(self, project: Project) -> Path:
        entry = self._entries.get(project.name)
        return entry.server.log_path if entry else self._paths.server_log(project.slug)

    def aggregate(self) -> str:
        """One word for the icon: 'failed', 'starting', 'running' or 'idle' (first that applies)."""
        states = {self.state(name) for name in self._entries}
        for state, word in (
            (State.FAILED, "failed"),
            (State.STARTING, "starting"),
            (State.RUNNING, "running"),
        ):
            if state in states:
                return word
        return "idle"

    def active(self) -> list[tuple[str, State, str | None]]:
        """(name, state, url) of every server that is starting or running."""
        return [
            (name, self.state(name), self.url(name))
            for name in self._entries
            if self.state(name) in (State.STARTING, State.RUNNING)
        ]

    # -- actions -----------------------------------------------------------------------------

    def open(self, project: Project) -> None:
        """What a click on a project does: start it if needed, then show it in the browser."""
        if self.policy == POLICY_STOP:
            for name in list(self._entries):
                if name != project.name:
                    self.stop(name)
        entry = self._entries.get(project.name)
        if entry is not None and self.state(project.name) is State.RUNNING and entry.server.url:
            entry.server.last_activity = time.monotonic()
            self.open_url(entry.server.url, project=entry.project, key=entry.server.access_key)
            return
        if entry is not None and self.state(project.name) is State.STARTING:
            entry.open_when_ready = True
            return
        self.start(project, open_browser=True)

    def start(
        self, project: Project, *, open_browser: bool = False, upgrade_schema: bool = False
    ) -> None:
        """Start ``project`` unless it is starting or running (then only maybe open it)."""
        entry = self._entries.get(project.name)
        if entry is not None and self.state(project.name) in (State.STARTING, State.RUNNING):
            entry.open_when_ready = entry.open_when_ready or open_browser
            return
        self._launch(project, open_browser=open_browser, upgrade_schema=upgrade_schema)

    def restart(
        self, project: Project, *, open_browser: bool = False, upgrade_schema: bool = False
    ) -> None:
        """Stop the current server (if any) and start a new one with ``project`` as it is now."""
        self._launch(project, open_browser=open_browser, upgrade_schema=upgrade_schema)

    def stop(self, name: str) -> None:
        """Stop one project's server in the background; its tree is gone when the state says so."""
        entry = self._entries.get(name)
        if entry is None:
            return
        entry.open_when_ready = False
        entry.cancelled.set()
        if entry.server.state is State.STOPPED and not entry.busy:
            return
        self._spawn(entry, _stop_quietly, entry.server, name=f"stop-{name}")

    def forget(self, name: str) -> None:
        """A project was removed: stop its server and drop it."""
        entry = self._entries.pop(name, None)
        if entry is not None:
            entry.cancelled.set()
            self._spawn(entry, _stop_quietly, entry.server, name=f"stop-{name}")
            emit(self.stateChanged, name)

    def rename(self, old: str, project: Project) -> None:
        """A project was renamed or edited: keep its running server under the new name."""
        entry = self._entries.pop(old, None)
        if entry is None:
            return
        entry.project = project
        self._entries[project.name] = entry
        emit(self.stateChanged, old)
        emit(self.stateChanged, project.name)

    def stop_all(self, *, wait: bool = True, timeout: float = STOP_ALL_TIMEOUT) -> bool:
        """Stop every server, all at once; with ``wait``, return once every tree is gone.

        Returns False if something was still running after ``timeout`` (logged).
        """
        for name in list(self._entries):
            self.stop(name)
        if not wait:
            return True
        deadline = time.monotonic() + timeout
        for thread in self._live_threads():
            thread.join(max(0.0, deadline - time.monotonic()))
        leftovers = [t.name for t in self._live_threads()]
        alive = [name for name, e in self._entries.items() if e.server.pid is not None]
        if leftovers or alive:
            log.error("still running after stop_all: threads %s, servers %s", leftovers, alive)
            return False
        return True

    def open_url(self, url: str, *, project: Project | None = None, key: str | None = None) -> None:
        """Hand ``url``, carrying ``key`` (its server's), to the browser in a thread (see
        :func:`browser.open_in_thread`)."""
        browser.open_in_thread(self._opener, url, project, key)

    @Slot()
    def check_idle(self) -> None:
        """Stop servers nobody used for the idle time (policy 'keep' with minutes > 0)."""
        if self.policy != POLICY_KEEP or self.idle_minutes <= 0:
            return
        limit = self.idle_minutes * 60.0
        now = time.monotonic()
        for name, entry in list(self._entries.items()):
            server = entry.server
            if self.state(name) is not State.RUNNING or server.pid is None:
                continue  # remote projects have no process to stop
            if now - server.last_activity >= limit:
                log.info("stopping %s: idle for %.0f min", name, (now - server.last_activity) / 60)
                self.stop(name)
                emit(self.idleStopped, name)

    # -- plumbing ----------------------------------------------------------------------------

    def _launch(self, project: Project, *, open_browser: bool, upgrade_schema: bool) -> None:
        previous = self._entries.get(project.name)
        server = self._factory(
            project, self._paths, upgrade_schema=upgrade_schema, on_change=self._server_changed
        )
        entry = _Entry(project, server, open_when_ready=open_browser, busy=True)
        self._entries[project.name] = entry
        old = previous.server if previous is not None else None
        if previous is not None:
            previous.cancelled.set()
        self._spawn(entry, self._run, entry, old, name=f"start-{project.name}")
        emit(self.stateChanged, project.name)

    def _run(self, entry: _Entry, previous: ServerLike | None) -> None:
        """Worker: stop the previous server, start this one, then watch it until it exits."""
        server = entry.server
        if previous is not None:
            _stop_quietly(previous)
        if entry.cancelled.is_set():
            emit(self._event, "failed", server, Failure(Cause.STOPPED, "stopped before it started"))
            return
        try:
            url = server.start()
        except ServerFailed as exc:
            emit(self._event, "failed", server, exc.failure)
            return
        except Exception as exc:  # a bug must not kill the thread silently
            log.exception("starting a server failed unexpectedly")
            emit(
                self._event,
                "failed",
                server,
                Failure(Cause.UNKNOWN, f"{type(exc).__name__}: {exc}"),
            )
            return
        if entry.cancelled.is_set():  # a stop raced with the start: honour it
            _stop_quietly(server)
            emit(self._event, "failed", server, Failure(Cause.STOPPED, "stopped while starting"))
            return
        emit(self._event, "ready", server, url)
        # Watch until it exits. Not "if server.pid": a server that died right after it was
        # ready has no pid any more, and would go unnoticed. (A remote one returns at once.)
        server.wait()
        if server.state is State.FAILED and server.failure is not None:
            emit(self._event, "failed", server, server.failure)
        else:
            emit(self._event, "state", server, None)

    def _server_changed(self, server: ServerLike) -> None:
        emit(self._event, "state", server, None)

    @Slot(str, object, object)
    def _on_event(self, kind: str, server: ServerLike, payload: object) -> None:
        name, entry = self._find(server)
        if entry is None or name is None:
            return  # an old server of a project that was restarted or removed
        if kind == "ready":
            entry.busy = False
            url = str(payload)
            if entry.open_when_ready and self.open_browser:
                self.open_url(url, project=entry.project, key=entry.server.access_key)
            entry.open_when_ready = False
            emit(self.stateChanged, name)
            emit(self.ready, name, url)
        elif kind == "failed":
            entry.busy = False
            entry.open_when_ready = False
            emit(self.stateChanged, name)
            failure = payload if isinstance(payload, Failure) else None
            if failure is not None and failure.cause is not Cause.STOPPED:
                emit(self.failed, name, failure)
        else:
            emit(self.stateChanged, name)

    def _find(self, server: ServerLike) -> tuple[str | None, _Entry | None]:
        for name, entry in self._entries.items():
            if entry.server is server:
                return name, entry
        return None, None

    def _spawn(self, entry: _Entry, target: Callable[..., None], *args: Any, name: str) -> None:
        def run() -> None:
            try:
                target(*args)
            finally:
                with self._threads_lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._threads_lock:
            self._threads.add(thread)
        entry.threads = [t for t in entry.threads if t.is_alive()] + [thread]
        thread.start()

    def _live_threads(self) -> Iterable[threading.Thread]:
        with self._threads_lock:
            return [t for t in self._threads if t.is_alive()]


def _stop_quietly(server: ServerLike) -> None:
    try:
        server.stop()
    except Exception:
        log.exception("stopping a server failed")
