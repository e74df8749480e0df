"""A small window with the tray's menu, for desktops that have no system tray.

Some Linux desktops (GNOME without an extension, bare window managers) offer no tray: the
launcher then shows this instead of starting silently. Closing it quits the launcher, since
there would be no other way back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from launcher.ui.common.icons import app_icon
from launcher.ui.controller import Controller
from launcher.ui.tray.menu import ClickableSubmenus, populate


class FallbackWindow(QWidget):
    def __init__(self, controller: Controller) -> None:
        super().__init__()
        self.controller = controller
        self.setWindowTitle("MLflow Launcher")
        self.setWindowIcon(app_icon())
        layout = QVBoxLayout(self)
        note = QLabel("This desktop has no system tray, so the launcher lives in this window.")
        note.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.menu = ClickableSubmenus(self)
        self.menu.aboutToShow.connect(lambda: populate(self.menu, controller))
        self.button = QPushButton("Projects and actions")
        self.button.setMenu(self.menu)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.linkActivated.connect(lambda _link: controller.notification_clicked())
        layout.addWidget(note)
        layout.addWidget(self.button)
        layout.addWidget(self.status)
        layout.addWidget(self.message)
        controller.changed.connect(self.refresh)
        controller.notify.connect(self.show_message)
        self.resize(380, 160)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        self.status.setText(self.controller.tooltip().split("\n", 1)[-1])

    @Slot(str, str, str, str)
    def show_message(self, title: str, text: str, level: str, project: str) -> None:
        link = ' <a href="log">Show log</a>' if level == "error" and project else ""
        self.message.setText(f"<b>{_escape(title)}</b><br>{_escape(text)}{link}")

    def closeEvent(self, event: QCloseEvent) -> None:
        event.accept()
        self.controller.quit()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
