"""The tray app's start and end: one instance, the icon up fast, no server left at the end.

``run_tray(args)`` hands over to a running instance when there is one (``open NAME``, or no name:
the last used project or the settings), else builds the app: config, :class:`ServerManager`,
controller, and the tray icon (or a small window on desktops without a tray). Quit, the end of
the session and SIGTERM/SIGINT all stop every server and wait until their trees are gone.

Only what the icon needs is imported before it shows; MLflow never is (it runs in children).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Slot
from PySide6.QtGui import QGuiApplication, QSessionManager
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from launcher.app import autostart as autostart_mod
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths, app_paths
from launcher.server.manager import Opener, ServerFactory, ServerManager, emit
from launcher.server.process import MlflowServer
from launcher.ui.controller import Autostart, Controller
from launcher.ui.fallback import FallbackWindow
from launcher.ui.icons import app_icon
from launcher.ui.instance import InstanceLock, InstanceServer, hand_over, instance_name
from launcher.ui.tray import TrayIcon

log = logging.getLogger("launcher.tray")

USAGE = "usage: mlflow-launcher [open NAME]"
HEAVY_MODULES = ("mlflow", "pandas", "numpy", "sqlalchemy")
"""Never imported by the tray: MLflow runs in the server children (logged at quit, tested)."""
HANDOVER_WAIT = 10.0
"""How long a second start waits for a first one that holds the lock but is not listening yet."""


class TrayApp(QObject):
    """The running tray: everything wired together, and a shutdown that leaves nothing behind."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        server_factory: ServerFactory = MlflowServer,
        opener: Opener = webbrowser.open,
        autostart: Autostart | None = None,
        use_tray: bool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.manager = ServerManager(paths, server_factory=server_factory, opener=opener)
        self.controller = Controller(paths, ConfigStore(paths), self.manager, autostart=autostart)
        self.controller.quitRequested.connect(self.quit)
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: TrayIcon | None = TrayIcon(self.controller) if use_tray else None
        self.window: FallbackWindow | None = None if use_tray else FallbackWindow(self.controller)
        self._shut_down = False

    def show(self) -> None:
        if self.tray is not None:
            self.tray.show()
        elif self.window is not None:
            self.window.show()
        if self.controller.load_problem:
            emit(
                self.controller.notify,
                "Config file reset",
                self.controller.load_problem,
                "warning",
                "",
            )

    @Slot(dict)
    def handle(self, message: dict[str, Any]) -> None:
        """A request from a second start (or from our own command line)."""
        name = message.get("name")
        if message.get("command") == "open" and isinstance(name, str) and name:
            self.controller.open_project(name)
        else:
            self.controller.open_default()

    def shutdown(self) -> bool:
        """Stop every server and wait for the trees to be gone; safe to call more than once."""
        if self._shut_down:
            return True
        self._shut_down = True
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.hide()
        started = time.monotonic()
        clean = self.manager.stop_all(wait=True)
        log.info(
            "servers stopped in %.1f s%s",
            time.monotonic() - started,
            "" if clean else " (not all!)",
        )
        heavy = [name for name in HEAVY_MODULES if name in sys.modules]
        log.info("heavy modules in the tray process: %s", ", ".join(heavy) or "none")
        return clean

    @Slot()
    def quit(self) -> None:
        self.shutdown()
        QApplication.quit()


def run_tray(args: list[str]) -> int:
    """The tray app's entry point; returns the process exit code."""
    if args and (args[0] != "open" or len(args) != 2):
        print(USAGE, file=sys.stderr)
        return 2
    message: dict[str, Any] = (
        {"command": "open", "name": args[1]} if args else {"command": "activate"}
    )
    paths = app_paths()
    _setup_logging(paths)
    name = instance_name(paths)
    if hand_over(name, message):
        return 0
    lock = InstanceLock(paths)
    deadline = time.monotonic() + HANDOVER_WAIT
    while not lock.acquire():
        # Another instance holds the lock: it is starting up; hand over once it listens.
        if hand_over(name, message, timeout_ms=500):
            return 0
        if time.monotonic() > deadline:
            print("Another MLflow Launcher is running but does not answer.", file=sys.stderr)
            return 1
        time.sleep(0.2)
    try:
        return _run_primary(paths, name, args)
    finally:
        lock.release()


def _run_primary(paths: AppPaths, name: str, args: list[str]) -> int:
    QApplication.setApplicationName("MLflow Launcher")
    QApplication.setDesktopFileName("mlflow-launcher")
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    server = InstanceServer(name, app)
    if not server.listen():
        log.warning("no single-instance socket: a second start will not find this one")
    autostart = autostart_mod.for_this_os()
    tray = TrayApp(paths, autostart=autostart, parent=app)
    server.received.connect(tray.handle)
    tray.show()
    QTimer.singleShot(0, lambda: _shown(tray))
    if args:
        QTimer.singleShot(0, lambda: tray.handle({"command": "open", "name": args[1]}))
    QTimer.singleShot(0, lambda: _refresh_autostart(autostart, tray))
    app.commitDataRequest.connect(lambda manager: _session_ending(tray, manager))
    app.aboutToQuit.connect(tray.shutdown)
    keep = _install_signal_handlers(tray.quit)
    _install_excepthook()
    try:
        code = app.exec()
    finally:
        tray.shutdown()
        server.close()
        del keep
    log.info("tray exited with %s", code)
    return int(code)


def _shown(tray: TrayApp) -> None:
    """The line the benchmark and the Windows smoke test wait for."""
    platform = QGuiApplication.platformName()
    where = "tray" if tray.tray is not None else "fallback window"
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

    if os.name == "nt":
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


def _install_excepthook() -> None:
    """A bug in a click handler shows a dialog and is logged; the tray keeps running."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(kind, exc, tb))
        if issubclass(kind, KeyboardInterrupt):
            return
        QTimer.singleShot(0, lambda: QMessageBox.critical(
            None, "MLflow Launcher: unexpected error",
            f"Something went wrong: {exc}\n\nDetails are in the log: {app_paths().app_log}",
        ))  # fmt: skip

    sys.excepthook = hook


def _setup_logging(paths: AppPaths) -> None:
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        paths.app_log, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
