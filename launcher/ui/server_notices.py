"""The notifications a user gets about servers: ready after a slow start, failed, idle-stopped.

The server manager only reports what happened; deciding what is worth interrupting someone for
(a start they may have given up waiting on, a failure with its cause, an idle stop) is this
module's job. An outdated database schema is asked about first: upgrading it is the user's call.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, SignalInstance, Slot

from launcher.model.config import Settings
from launcher.model.project import Project
from launcher.server.checks.failures import Cause, Failure
from launcher.server.manager import ServerManager
from launcher.server.signals import emit

SLOW_START_SECONDS = 8.0
"""A server ready after longer than this gets a "ready" notification: the user may have moved on."""


class ServerNotices(QObject):
    """Listens to ``manager`` and emits ``notify(title, text, level, project)``."""

    def __init__(
        self,
        manager: ServerManager,
        notify: SignalInstance,
        find: Callable[[str], Project | None],
        settings: Callable[[], Settings],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._manager = manager
        self._notify = notify
        self._find = find
        self._settings = settings
        self.last_failed = ""
        """The project of the last failure: a click on its notification opens its log."""
        self._upgrading: set[str] = set()
        manager.ready.connect(self._on_ready)
        manager.failed.connect(self._on_failed)
        manager.idleStopped.connect(self._on_idle_stopped)

    @Slot(str, str)
    def _on_ready(self, name: str, url: str) -> None:
        self._upgrading.discard(name)
        server = self._manager.server(name)
        started = getattr(server, "started_at", None)
        slow = started is not None and time.monotonic() - started >= SLOW_START_SECONDS
        if slow or not self._settings().open_browser:
            emit(self._notify, f"{name} is ready", url, "info", name)

    @Slot(str, object)
    def _on_failed(self, name: str, failure: Failure) -> None:
        self.last_failed = name
        if failure.cause is Cause.SCHEMA_OUTDATED and name not in self._upgrading:
            from launcher.ui.common.dialogs import confirm_schema_upgrade

            project = self._find(name)
            if project is not None and confirm_schema_upgrade(name, failure):
                self._upgrading.add(name)
                self._manager.restart(project, open_browser=True, upgrade_schema=True)
                return
        self._upgrading.discard(name)
        emit(self._notify, f"{name}: {failure.cause.label}", failure.message, "error", name)

    @Slot(str)
    def _on_idle_stopped(self, name: str) -> None:
        minutes = self._settings().idle_stop_minutes
        emit(self._notify,
            f"{name} stopped", f"Nobody used it for {minutes} minutes; a click starts it again.",
            "info", name,
        )  # fmt: skip
