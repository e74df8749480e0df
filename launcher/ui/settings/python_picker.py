"""The "Python environment" field: the launcher's own MLflow or another environment's.

Finding the environments with MLflow (conda, venvs, the PATH) probes each interpreter, which
takes seconds, so the first picker of a session looks in a thread and later pickers reuse what
it found. A path typed or browsed to is kept as is: the server's pre-flight says whether it has
MLflow.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QWidget

from launcher.server.python.interpreters import Interpreter
from launcher.server.signals import emit
from launcher.ui.common.dialogs import mlflow_version
from launcher.ui.common.notes import held_note, show_note
from launcher.ui.common.widgets import named
from launcher.ui.common.workers import run_in_thread

_interpreters: list[Interpreter] | None = None
"""Interpreters found by the first picker of this session; later pickers reuse the list."""


class PythonPicker(QWidget):
    """An editable list of interpreters with a Browse button; ``note`` goes on the row below."""

    changed = Signal()
    """The choice changed, or the list of environments arrived."""

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._current = current
        self.combo = named(QComboBox(), "python")
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumContentsLength(40)
        self.combo.currentTextChanged.connect(lambda _text: emit(self.changed))
        self.note = held_note(lines=2)
        browse = named(QPushButton("Browse…"), "browse-python")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(browse)
        self._fill()

    def value(self) -> str:
        """The chosen interpreter's path; '' is the launcher's own."""
        text = self.combo.currentText().strip()
        index = self.combo.findText(text, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            return str(self.combo.itemData(index) or "")
        return text

    def _fill(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(f"The launcher's own (MLflow {mlflow_version()})", "")
        found = _interpreters or []
        for interpreter in found:
            if interpreter.python:
                self.combo.addItem(interpreter.label, interpreter.python)
        index = self.combo.findData(self._current)
        if index < 0 and self._current:
            self.combo.addItem(self._current, self._current)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(max(0, index))
        self.combo.blockSignals(False)
        if _interpreters is None:
            show_note(self.note, "info", "Looking for Python environments with MLflow…")
            run_in_thread(_discover, self._found, self._failed, owner=self, name="interpreters")
        else:
            self._say_found(found)

    @Slot(object)
    def _found(self, found: list[Interpreter]) -> None:
        global _interpreters
        _interpreters = found
        chosen = self.value()
        typed = self.combo.currentText()
        self.combo.blockSignals(True)
        for interpreter in found:
            if interpreter.python and self.combo.findData(interpreter.python) < 0:
                self.combo.addItem(interpreter.label, interpreter.python)
        index = self.combo.findData(chosen)
        if index >= 0 and self.combo.itemText(index) != typed:
            self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        self._say_found(found)
        emit(self.changed)

    def _say_found(self, found: list[Interpreter]) -> None:
        if any(i.python for i in found):
            count = sum(1 for i in found if i.python)
            show_note(self.note, "info", f"{count} other environment(s) with MLflow found.")
        else:
            show_note(self.note, "info", "No other environment with MLflow found; Browse…")

    def _failed(self, exc: BaseException) -> None:
        show_note(self.note, "warning", f"Could not look for environments: {exc}")

    @Slot()
    def _browse(self) -> None:
        pattern = (
            "Python (python.exe);;All files (*)" if sys.platform == "win32" else "All files (*)"
        )
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Python interpreter", "", pattern)
        if path:
            path = os.path.normpath(path)
            if self.combo.findData(path) < 0:
                self.combo.addItem(path, path)
            self.combo.setCurrentIndex(self.combo.findData(path))


def _discover() -> list[Interpreter]:
    from launcher.server.python.interpreters import discover

    return discover()
