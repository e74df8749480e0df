"""The tray app's start and end: one instance, the icon up fast, no server left at the end.

``run_primary`` is what ``launcher.app.second_start`` calls when no tray runs yet (a running one
gets the request without this module or Qt's widgets ever loading): it shows the tray icon
first thing and only then loads the rest (config, server manager, menus:
:mod:`launcher.ui.tray.tray_app`), so the icon appears as fast as in a bare PySide6 script.
Quit, the end of the session and SIGTERM/SIGINT all stop every server and wait until their
trees are gone. MLflow is never imported here: it runs in the server children.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtGui import QGuiApplication, QSessionManager
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from launcher.app import appid
from launcher.model.paths import AppPaths
from launcher.ui.common.collector import MainThreadCollector
from launcher.ui.common.icons import app_icon, state_icon
from launcher.ui.tray.instance import InstanceServer

if TYPE_CHECKING:
    from launcher.ui.tray.tray_app import TrayApp

log = logging.getLogger("launcher.tray")


def run_primary(paths: AppPaths, name: str, first: dict[str, Any] | None) -> int:
    """Be the tray (``second_start`` holds the instance lock for it): the icon first, then the
    rest; returns the exit code once it quits. ``first``: the request it was started with."""
    _setup_logging(paths)
    if appid.set_for_this_process():
        log.info("AppUserModelID %s", appid.APP_USER_MODEL_ID)
    QApplication.setApplicationName("MLflow Launcher")
    QApplication.setDesktopFileName("mlflow-launcher")
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    collector = MainThreadCollector(parent=app)
    icon: QSystemTrayIcon | None = None
    if QSystemTrayIcon.isSystemTrayAvailable():
        # The icon first, before the rest is even imported: it is what the user waits for.
        icon = QSystemTrayIcon(state_icon("idle"), app)
        icon.setToolTip("MLflow Launcher")
        icon.show()
    server = InstanceServer(name, app)
    if not server.listen():
        log.warning("no single-instance socket: a second start will not find this one")
    built: list[TrayApp] = []

    def build() -> None:
        """Everything but the icon, on the event loop's first turn: the icon is up by then."""
        try:
            built.append(_build(paths, icon, server, first))
        except Exception as exc:
            log.exception("the tray app could not start")
            QMessageBox.critical(None, "MLflow Launcher could not start", f"{exc}\n\n"
                                 f"Details are in the log: {paths.app_log}")  # fmt: skip
            app.exit(1)

    def quit_app() -> None:
        if built:
            built[0].quit()
        else:
            app.quit()

    def quit_early(message: dict[str, Any]) -> None:
        """`mlflow-launcher quit` (the installer) before the rest is built; then TrayApp does."""
        if not built and message.get("command") == "quit":
            app.quit()

    server.received.connect(quit_early)
    QTimer.singleShot(0, lambda: _shown(icon is not None))
    QTimer.singleShot(0, build)
    keep = _install_signal_handlers(quit_app)
    _install_excepthook(paths)
    try:
        code = app.exec()
    finally:
        for tray in built:
            tray.shutdown()
        server.close()
        collector.stop()
        del keep
    log.info("tray exited with %s", code)
    return int(code)


def _build(
    paths: AppPaths,
    icon: QSystemTrayIcon | None,
    server: InstanceServer,
    first: dict[str, Any] | None,
) -> TrayApp:
    from launcher.app import autostart as autostart_mod
    from launcher.server.manager import mlflow_server
    from launcher.server.warm.host_pool import HostPool
    from launcher.ui.tray.tray_app import TrayApp

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    autostart = autostart_mod.for_this_os()
    hosts = HostPool(paths)  # every project of a Python environment in one process
    tray = TrayApp(
        paths,
        server_factory=functools.partial(mlflow_server, hosts=hosts),
        autostart=autostart,
        icon=icon,
        use_tray=icon is not None,
        hosts=hosts,
        parent=app,
    )
    server.received.connect(tray.handle)
    tray.show()
    if first is not None:
        tray.handle(first)
    _refresh_autostart(autostart, tray)
    app.commitDataRequest.connect(lambda manager: _session_ending(tray, manager))
    app.aboutToQuit.connect(tray.shutdown)
    return tray


def _shown(in_tray: bool) -> None:
    """The line the benchmark and the Windows smoke test wait for."""
    platform = QGuiApplication.platformName()
    where = "tray" if in_tray else "fallback window"
    log.info("platform %s; tray shown (%s) t=%.6f", platform, where, time.time())


def _refresh_autostart(autostart: Any, tray: TrayApp) -> None:
    """Rewrite the login entry so it points at where the launcher is now (moved .exe)."""
    if autostart is None:
        return
    wanted = tray.controller.config.settings.start_at_login
    try:
        if wanted:
            autostart.set_enabled(True)
        else:
            autostart.refresh()
    except OSError as exc:
        log.warning("could not refresh start at login: %s", exc)


def _session_ending(tray: TrayApp, _manager: QSessionManager) -> None:
    log.info("the session is ending: stopping servers")
    tray.shutdown()


def _install_signal_handlers(on_signal: Callable[[], None]) -> object:
    """Let SIGTERM/SIGINT reach Python while Qt's loop runs, then quit cleanly.

    POSIX: the signal's byte goes to a socket pair (``signal.set_wakeup_fd``) that a
    QSocketNotifier watches, so the handler runs at once. Windows: a timer wakes Python twice a
    second so Ctrl-C is seen. Returns what must stay alive.
    """
    requested = threading.Event()

    def handler(_signum: int, _frame: object) -> None:
        requested.set()

    def fire() -> None:
        if requested.is_set():
            requested.clear()
            log.info("signal received: quitting")
            on_signal()

    if sys.platform == "win32":
        signal.signal(signal.SIGINT, handler)
        timer = QTimer()
        timer.timeout.connect(fire)
        timer.start(500)
        return timer
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def drain() -> None:
        try:
            while reader.recv(64):
                pass
        except OSError:
            pass
        fire()

    notifier.activated.connect(drain)
    return (reader, writer, notifier)


def _install_excepthook(paths: AppPaths) -> None:
    """A bug in a click handler shows a dialog and is logged; the tray keeps running."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(kind, exc, tb))
        if issubclass(kind, KeyboardInterrupt):
            return
        text = f"Something went wrong: {exc}\n\nDetails are in the log: {paths.app_log}"
        QTimer.singleShot(
            0, lambda: QMessageBox.critical(None, "MLflow Launcher: unexpected error", text)
        )

    sys.excepthook = hook


class _AppLogHandler(logging.FileHandler):
    """The app log, capped in size with a few old copies, like ``RotatingFileHandler``.

    Written here because ``logging.handlers`` brings pickle and queue along: 1.8 MiB of an idle
    tray's memory for one feature. Only the primary instance writes this log.
    """

    def __init__(self, path: Path, max_bytes: int = 1_000_000, backups: int = 3) -> None:
        super().__init__(path, encoding="utf-8")
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is not None and self.stream.tell() >= self.max_bytes:
                self._rotate()
        except OSError:
            pass  # a full disk must not stop the tray; the line below may still fail quietly
        super().emit(record)

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.stream = None
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self.stream = self._open()


def _setup_logging(paths: AppPaths) -> None:
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    handler = _AppLogHandler(paths.app_log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
