"""Running slow calls (doctor, interpreter discovery, a path check on a share) off the GUI thread.

:func:`run_in_thread` runs a function in a plain thread and hands the result back through one
long-lived relay object's queued signal, so the callbacks always run in the GUI thread. The
worker thread never holds a QObject of its own: if it did, and dropped the last reference, Qt
would delete that object from the wrong thread while its result was still queued (a crash). A
task whose owner widget was deleted in the meantime drops its result instead of touching it.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from launcher.server.signals import emit

log = logging.getLogger(__name__)


class Task:
    """One call in flight: whom to tell. A plain object, safe in any thread."""

    def __init__(
        self,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None,
        owner: QObject | None,
        name: str,
        on_progress: Callable[[Any], None] | None = None,
    ) -> None:
        self.on_done = on_done
        self.on_error = on_error
        self.owner = owner
        self.name = name
        self.on_progress = on_progress

    def report(self, payload: Any) -> None:
        """In the GUI thread: pass on a progress report, unless the owner is gone."""
        if self.on_progress is None:
            return
        if self.owner is not None and not shiboken6.isValid(self.owner):
            return
        self.on_progress(payload)

    def deliver(self, ok: bool, payload: Any) -> None:
        """In the GUI thread: call back, unless the owner is gone."""
        if self.owner is not None and not shiboken6.isValid(self.owner):
            return
        if ok:
            self.on_done(payload)
        elif self.on_error is not None:
            self.on_error(payload)
        else:
            log.error("%s failed: %s", self.name, payload)


class _Relay(QObject):
    """Lives in the GUI thread for the whole run; carries results there.

    Workers send a number, not the task: the task holds callbacks bound to widgets, and a
    worker thread must never hold (and maybe drop last) a reference to a Qt object.
    """

    finished = Signal(int, bool, object)
    progress = Signal(int, object)

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[int, Task] = {}
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.progress.connect(self._report, Qt.ConnectionType.QueuedConnection)

    @Slot(int, object)
    def _report(self, token: int, payload: Any) -> None:
        task = self.pending.get(token)
        if task is not None:
            task.report(payload)

    @Slot(int, bool, object)
    def _deliver(self, token: int, ok: bool, payload: Any) -> None:
        task = self.pending.pop(token, None)
        if task is not None:
            task.deliver(ok, payload)


_relay: _Relay | None = None
_tokens = itertools.count(1)


def _the_relay() -> _Relay:
    global _relay
    if _relay is None:
        _relay = _Relay()
        app = QCoreApplication.instance()
        if app is not None:
            _relay.moveToThread(app.thread())
    return _relay


def run_in_thread(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
    *,
    owner: QObject | None = None,
    name: str = "task",
) -> Task:
    """Run ``fn`` in a thread; ``on_done(result)`` or ``on_error(exc)`` later in the GUI thread.

    Call it from the GUI thread.
    """
    return _start(lambda _report: fn(), on_done, on_error, owner, name, None)


def run_with_progress(
    fn: Callable[[Callable[[Any], None]], Any],
    on_progress: Callable[[Any], None],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
    *,
    owner: QObject | None = None,
    name: str = "task",
) -> Task:
    """Like :func:`run_in_thread`; ``fn(report)`` may call ``report(x)`` from its thread, and
    ``on_progress(x)`` runs in the GUI thread (a scan of a share showing what it searches)."""
    return _start(fn, on_done, on_error, owner, name, on_progress)


def _start(
    fn: Callable[[Callable[[Any], None]], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None,
    owner: QObject | None,
    name: str,
    on_progress: Callable[[Any], None] | None,
) -> Task:
    task = Task(on_done, on_error, owner, name, on_progress)
    relay = _the_relay()
    token = next(_tokens)
    relay.pending[token] = task
    signal, progress = relay.finished, relay.progress

    def report(payload: Any) -> None:
        emit(progress, token, payload)

    def run() -> None:
        try:
            result = fn(report)
        except Exception as exc:
            emit(signal, token, False, exc)
        else:
            emit(signal, token, True, result)

    threading.Thread(target=run, name=name, daemon=True).start()
    return task
