"""A window that shows a server's log and follows it live, with Copy and Open folder.

It polls the file (twice a second) rather than watching it: file-system watchers miss appends on
network drives and lose track when the log rotates. Only the tail is loaded, so a big log opens
at once.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Slot
from PySide6.QtGui import QCloseEvent, QDesktopServices, QFontDatabase, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from launcher.ui.common.icons import app_icon

POLL_MS = 500
TAIL_BYTES = 256_000
MAX_BLOCKS = 20_000


class LogViewer(QWidget):
    def __init__(self, path: Path, *, title: str = "Server log", poll_ms: int = POLL_MS) -> None:
        super().__init__()
        self.path = path
        self.setWindowTitle(title)
        self.setWindowIcon(app_icon())
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMaximumBlockCount(MAX_BLOCKS)
        self.where = QLabel(str(path))
        copy = QPushButton("Copy")
        copy.clicked.connect(self.copy)
        folder = QPushButton("Open folder")
        folder.clicked.connect(self.open_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.where, 1)
        for button in (copy, folder, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.resize(900, 500)
        self._offset = 0
        self._partial = False
        self._inode: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)
        self._load_tail()

    def showEvent(self, event: QShowEvent) -> None:
        self._timer.start()
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        super().closeEvent(event)

    @Slot()
    def copy(self) -> None:
        selected = self.text.textCursor().selectedText().replace("\u2029", "\n")
        QGuiApplication.clipboard().setText(selected or self.text.toPlainText())

    @Slot()
    def open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent)))

    def _load_tail(self) -> None:
        self.text.clear()
        try:
            stat = self.path.stat()
        except OSError:
            self.text.setPlainText(f"No log yet: {self.path} will appear when the server starts.")
            self._inode = None
            return
        self._start_at(stat)
        self.poll()

    def _start_at(self, stat: os.stat_result) -> None:
        """Read ``stat``'s file from its last :data:`TAIL_BYTES`, from a line start."""
        self._inode = (stat.st_dev, stat.st_ino)
        self._offset = max(0, stat.st_size - TAIL_BYTES)
        self._partial = self._offset > 0

    @Slot()
    def poll(self) -> None:
        """Append the whole lines written since the last look; start over when the log rotated."""
        try:
            stat = self.path.stat()
        except OSError:
            return
        if self._inode is None:
            self.text.clear()  # the "no log yet" note
            self._start_at(stat)
        elif self._inode != (stat.st_dev, stat.st_ino) or stat.st_size < self._offset:
            self.text.appendPlainText("--- the log was rotated ---")
            self._start_at(stat)
        if stat.st_size <= self._offset:
            return
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read(stat.st_size - self._offset)
        except OSError:
            return
        cut = data.rfind(b"\n") + 1  # whole lines only: the rest comes next time
        if cut == 0:
            return
        self._offset += cut
        chunk = data[:cut]
        if self._partial:  # started mid-file: drop the broken first line
            chunk = chunk[chunk.find(b"\n") + 1 :]
            self._partial = False
        if not chunk:
            return
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.text.appendPlainText(
            chunk.decode("utf-8", "replace").replace("\r\n", "\n").rstrip("\n")
        )
        if at_end:
            bar.setValue(bar.maximum())
