"""The tray icon: shows the aggregate state and forwards clicks; nothing more.

Icon per state (failed > starting > running > idle), a tooltip listing what runs, the menu
rebuilt on every open, notifications for slow starts and failures (a click on a failure shows
its log), a left click that opens the menu (Windows users expect a left click to do something;
Qt opens it on a right click only) and a double-click that opens the last used project.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from launcher.ui.common.icons import state_icon
from launcher.ui.controller import Controller
from launcher.ui.tray.menu import ClickableSubmenus, populate

_LEVELS = {
    "info": QSystemTrayIcon.MessageIcon.Information,
    "warning": QSystemTrayIcon.MessageIcon.Warning,
    "error": QSystemTrayIcon.MessageIcon.Critical,
}
MESSAGE_MS = 8000


class TrayIcon(QObject):
    def __init__(
        self,
        controller: Controller,
        *,
        icon: QSystemTrayIcon | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``icon``: adopt a tray icon that is already shown (the app shows one first thing)."""
        super().__init__(parent)
        self.controller = controller
        self.icon = icon if icon is not None else QSystemTrayIcon(self)
        self.menu: QMenu = ClickableSubmenus()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        # A left click opens the menu once a double-click can no longer follow it: the first
        # click of a double-click must not pop the menu up under the project being opened.
        self._left_click = QTimer(self)
        self._left_click.setSingleShot(True)
        self._left_click.setInterval(QApplication.doubleClickInterval())
        self._left_click.timeout.connect(self._popup_menu)
        self.icon.messageClicked.connect(controller.notification_clicked)
        controller.changed.connect(self.refresh)
        controller.notify.connect(self.show_message)
        self.aggregate = ""
        self.refresh()
        # Filled once soon too, so a menu exported over D-Bus (which may skip aboutToShow) is
        # never empty; not now, so the icon's first paint does not wait for it.
        QTimer.singleShot(0, self.rebuild_menu)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    @Slot()
    def rebuild_menu(self) -> None:
        populate(self.menu, self.controller)

    @Slot()
    def refresh(self) -> None:
        aggregate = self.controller.aggregate()
        if aggregate != self.aggregate:
            self.aggregate = aggregate
            self.icon.setIcon(state_icon(aggregate))
        self.icon.setToolTip(self.controller.tooltip())

    @Slot(str, str, str, str)
    def show_message(self, title: str, text: str, level: str, _project: str) -> None:
        icon = _LEVELS.get(level, QSystemTrayIcon.MessageIcon.Information)
        self.icon.showMessage(title, text, icon, MESSAGE_MS)

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.DoubleClick:
            self._left_click.stop()
            self.controller.open_default()
        elif reason == QSystemTrayIcon.ActivationReason.Trigger and sys.platform != "darwin":
            self._left_click.start()  # macOS opens the menu on a left click by itself

    @Slot()
    def _popup_menu(self) -> None:
        self.menu.popup(QCursor.pos())
