"""Watching the stores of running servers: a share that goes away while it is served.

A server on a folder or SQLite store on a share keeps running when the share disappears (VPN
down, file server restarted), and every page it serves then fails with errors the user cannot
place. The watch asks, every :data:`CHECK_MS`, whether each served store's path still answers,
off the GUI thread and with a timeout (a stat on a dead share can hang for a minute), and
reports each change once: unreachable, then reachable again. Database servers are not watched:
their driver reports a lost connection itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from launcher.model.project import Project
from launcher.model.stores import StoreError
from launcher.server.signals import emit
from launcher.server.stores import reachable

CHECK_MS = 15_000
CHECK_TIMEOUT = 10.0
"""A store that does not answer within this long counts as unreachable."""


def store_path(project: Project) -> str | None:
    """The path whose presence says the store answers: a folder store's or a SQLite file's."""
    try:
        store = project.parsed_store()
    except StoreError:
        return None
    return store.path  # None for database servers and remote tracking servers


class StoreWatch(QObject):
    """Checks the stores of ``running()`` projects; :attr:`changed` on each change."""

    changed = Signal(str, bool)
    """(project name, reachable): the store stopped answering, or answers again."""
    _answer = Signal(str, str, object)
    """Worker thread -> GUI thread: (name, path, exists: bool | None)."""

    def __init__(
        self,
        running: Callable[[], list[Project]],
        *,
        interval_ms: int = CHECK_MS,
        timeout: float = CHECK_TIMEOUT,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._running = running
        self._timeout = timeout
        self._unreachable: set[str] = set()
        self._answered: set[str] = set()
        """Projects whose store answered since they started: only those can *stop* answering."""
        self._asking: set[str] = set()
        self._answer.connect(self._on_answer, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def unreachable(self, name: str) -> bool:
        return name in self._unreachable

    def check(self) -> None:
        """Ask about every running project's store (a project still being asked about waits)."""
        running = {p.name: p for p in self._running()}
        self._unreachable &= set(running)  # a stopped project starts afresh
        self._answered &= set(running)
        for name, project in running.items():
            path = store_path(project)
            if path is None or name in self._asking:
                continue
            self._asking.add(name)
            threading.Thread(
                target=self._ask, args=(name, path), name=f"store-watch:{name}", daemon=True
            ).start()

    def _ask(self, name: str, path: str) -> None:
        emit(self._answer, name, path, reachable.path_exists(path, self._timeout))

    def _on_answer(self, name: str, path: str, exists: bool | None) -> None:
        self._asking.discard(name)
        project = next((p for p in self._running() if p.name == name), None)
        if project is None or store_path(project) != path:
            return  # stopped or changed meanwhile: the next check asks afresh
        if exists is True:
            self._answered.add(name)
            if name in self._unreachable:
                self._unreachable.discard(name)
                emit(self.changed, name, True)
        elif name in self._answered and name not in self._unreachable:
            self._unreachable.add(name)
            emit(self.changed, name, False)
