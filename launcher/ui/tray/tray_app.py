"""The running tray app: config, server manager, controller and the tray (or its window).

Built by ``launcher.app.start_tray`` once the icon already shows, so nothing here delays it. Its
:meth:`TrayApp.shutdown` is the one way out: every server stopped, every tree waited for.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.server.browser import Opener, open_in_browser
from launcher.server.manager import ServerFactory, ServerManager, mlflow_server
from launcher.server.signals import emit
from launcher.server.warm import click_ready
from launcher.server.warm.host_pool import HostPool
from launcher.ui.controller import Controller
from launcher.ui.hosts import Autostart
from launcher.ui.tray.fallback import FallbackWindow
from launcher.ui.tray.project_finder import SHORTCUT
from launcher.ui.tray.tray_icon import TrayIcon

log = logging.getLogger("launcher.tray")

HEAVY_MODULES = ("mlflow", "pandas", "numpy", "sqlalchemy")
"""Never imported by the tray: MLflow runs in the server children (logged at quit, tested)."""


class TrayApp(QObject):
    """Everything wired together, and a shutdown that leaves nothing behind."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        server_factory: ServerFactory = mlflow_server,
        opener: Opener = open_in_browser,
        autostart: Autostart | None = None,
        use_tray: bool | None = None,
        icon: QSystemTrayIcon | None = None,
        hosts: HostPool | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``icon``: a tray icon already on screen (shown before this was imported) to adopt.

        ``hosts``: the host processes ``server_factory``'s servers are mounted in (the
        composition root passes both), kept warm here as the settings say."""
        super().__init__(parent)
        self.paths = paths
        self.hosts = hosts
        self.manager = ServerManager(paths, server_factory=server_factory, opener=opener)
        self.controller = Controller(paths, ConfigStore(paths), self.manager, autostart=autostart)
        self.controller.quitRequested.connect(self.quit)
        if use_tray is None:
            use_tray = icon is not None or QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: TrayIcon | None = TrayIcon(self.controller, icon=icon) if use_tray else None
        self.window: FallbackWindow | None = None if use_tray else FallbackWindow(self.controller)
        self._shut_down = False
        self._find_keys = QKeySequence(SHORTCUT)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # Find project... from any of the app's windows
        if hosts is not None:
            hosts.keep_warm = self.controller.config.settings.keep_warm
            hosts.on_lost = self._host_lost
            self.controller.changed.connect(self._sync_keep_warm)
            menu = self.tray.menu if self.tray is not None else self.window.menu  # type: ignore[union-attr]
            menu.aboutToShow.connect(self._menu_opening)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+K in any window of the app opens Find project..."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            pressed = QKeySequence(event.keyCombination())
            if pressed.matches(self._find_keys) == QKeySequence.SequenceMatch.ExactMatch:
                from launcher.ui.tray.menu_groups import show_finder

                show_finder(self.controller)
                return True
        return False

    @Slot()
    def _sync_keep_warm(self) -> None:
        """Follow the 'keep a server warm' setting (the host starts in the background)."""
        if self.hosts is None or self._shut_down:
            return
        keep = self.controller.config.settings.keep_warm
        if keep != self.hosts.keep_warm:
            threading.Thread(
                target=self.hosts.set_keep_warm, args=(keep,), name="host-warm", daemon=True
            ).start()

    @Slot()
    def _menu_opening(self) -> None:
        """With 'keep warm' off, an opened menu is the hint that a click may follow."""
        if self.hosts is not None and not self.hosts.keep_warm and not self._shut_down:
            threading.Thread(target=self.hosts.warm_up, name="host-warm-up", daemon=True).start()

    def _keep_warm(self) -> None:
        """Thread: the warm host, and the tray's own part of a click (click_ready.py)."""
        assert self.hosts is not None
        self.hosts.ensure()
        click_ready.prepare()

    def _host_lost(self, names: list[str]) -> None:
        """A host died (from its reader thread): one notice for all it served, each of which is
        being served again on its own port (MlflowServer.wait)."""
        listed = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        emit(
            self.controller.notify,
            "MLflow server restarted",
            f"The server process serving {listed} stopped unexpectedly; they are being served "
            "again on the same addresses.",
            "warning",
            "",
        )

    def show(self) -> None:
        if self.tray is not None:
            self.tray.show()
        elif self.window is not None:
            self.window.show()
        if self.hosts is not None and self.controller.config.settings.keep_warm:
            threading.Thread(target=self._keep_warm, name="host-start", daemon=True).start()
        self.controller.start_update_checks()
        problem = self.controller.load_problem
        if problem:
            emit(self.controller.notify, "Config file reset", problem, "warning", "")

    @Slot(dict)
    def handle(self, message: dict[str, Any]) -> None:
        """A request from a second start (or from our own command line)."""
        name = message.get("name")
        if message.get("command") == "quit":  # `mlflow-launcher quit`: the installer's request
            log.info("asked to quit through the single-instance channel")
            self.quit()
        elif message.get("command") == "open" and isinstance(name, str) and name:
            self.controller.open_project(name)
        else:
            self.controller.open_default()

    def shutdown(self) -> bool:
        """Stop every server and wait for the trees to be gone; safe to call more than once."""
        if self._shut_down:
            return True
        self._shut_down = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.hide()
        started = time.monotonic()
        clean = self.manager.stop_all(wait=True)
        if self.hosts is not None:
            self.hosts.close()
        took = time.monotonic() - started
        log.info("servers stopped in %.1f s%s", took, "" if clean else " (not all!)")
        heavy = [name for name in HEAVY_MODULES if name in sys.modules]
        log.info("heavy modules in the tray process: %s", ", ".join(heavy) or "none")
        return clean

    @Slot()
    def quit(self) -> None:
        self.shutdown()
        QApplication.quit()
