"""Running slow calls (doctor, interpreter discovery, a path check on a share) off the GUI thread.

A :class:`Task` runs a function in a plain thread and hands the result back through a queued
signal, so the callbacks always run in the GUI thread. A task whose owner widget was closed in
the meantime drops its result instead of touching a deleted widget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot

from launcher.server.manager import emit

log = logging.getLogger(__name__)

_running: set[Task] = set()
"""Tasks in flight: kept alive here until their result is delivered."""


class Task(QObject):
    _finished = Signal(bool, object)

    def __init__(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        *,
        owner: QObject | None = None,
        name: str = "task",
    ) -> None:
        super().__init__()
        self._fn = fn
        self._on_done = on_done
        self._on_error = on_error
        self._owner = owner
        self._name = name
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def start(self) -> Task:
        _running.add(self)
        threading.Thread(target=self._run, name=self._name, daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:
            emit(self._finished, False, exc)
        else:
            emit(self._finished, True, result)

    @Slot(bool, object)
    def _deliver(self, ok: bool, payload: Any) -> None:
        _running.discard(self)
        if self._owner is not None and not shiboken6.isValid(self._owner):
            return
        if ok:
            self._on_done(payload)
        elif self._on_error is not None:
            self._on_error(payload)
        else:
            log.error("%s failed: %s", self._name, payload)


def run_in_thread(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
    *,
    owner: QObject | None = None,
    name: str = "task",
) -> Task:
    """Run ``fn`` in a thread; ``on_done(result)`` or ``on_error(exc)`` later in the GUI thread."""
    return Task(fn, on_done, on_error, owner=owner, name=name).start()
