"""The password of a project's database or tracking server, asked for once before it is opened.

A team catalog never carries a password (``launcher.model.catalog.shareable``), so a colleague
who opens such a project for the first time has none stored: instead of a server that fails
on its login, :func:`ask_if_missing` shows a small dialog (echo off) whose OK button says where
the password goes ("Remember in Windows Credential Manager"). It is kept there through
``launcher.model.credentials``, never in the config, and the open goes on; Cancel aborts the
open and changes nothing. The next open finds it stored and asks nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from launcher.model import credentials
from launcher.model.project import Project
from launcher.ui.common.icons import app_icon
from launcher.ui.common.notes import note, show_note
from launcher.ui.common.widgets import named

Keep = Callable[[str, str], None]
"""Keeps ``(url, password)``; raises :class:`~launcher.model.credentials.CredentialError`."""


class PasswordDialog(QDialog):
    """One field, echo off; OK stores the password and closes, a refusal is shown in place."""

    def __init__(
        self,
        project: Project,
        *,
        keep: Keep = credentials.store_password,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.url = credentials.split(project.store)[0]
        self._keep = keep
        self.setWindowTitle(f"Password for {project.name}")
        self.setWindowIcon(app_icon())
        user = credentials.username(self.url)
        where = credentials.without_userinfo(self.url)
        text = QLabel(
            f"“{project.name}” logs in to {where} as {user!r}. Its password is not stored on "
            "this PC yet: give it once, and the launcher keeps it in the credential store "
            "(never in a file)."
        )
        text.setWordWrap(True)
        self.field = named(QLineEdit(), "password")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.textChanged.connect(self._on_text)
        self.problem = note("problem")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.remember: QPushButton = named(
            buttons.addButton(
                f"Remember in {credentials.backend_name()}",
                QDialogButtonBox.ButtonRole.AcceptRole,
            ),
            "remember",
        )
        self.remember.setDefault(True)
        self.remember.setEnabled(False)
        buttons.accepted.connect(self._remember)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.field)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    @Slot(str)
    def _on_text(self, text: str) -> None:
        self.remember.setEnabled(bool(text))
        show_note(self.problem, "", "")

    @Slot()
    def _remember(self) -> None:
        password = self.field.text()
        if not password:
            return
        try:
            self._keep(self.url, password)
        except credentials.CredentialError as exc:
            show_note(self.problem, "error", str(exc))  # stays open: retry or Cancel
            return
        self.accept()


def ask_if_missing(project: Project, parent: QWidget | None = None) -> bool:
    """Whether opening ``project`` may go on: True when no password is missing, or once the user
    gave it (stored); False when they cancelled (nothing stored, nothing changed).

    Without a credential store nothing is asked: there is nowhere to remember it (the server
    then fails on its login, and says so; ``mlflow-launcher password`` can still help a local
    project by writing the password into the private config)."""
    if not (credentials.available() and credentials.missing_password(project.store)):
        return True
    dialog = PasswordDialog(project, parent=parent)
    return dialog.exec() == QDialog.DialogCode.Accepted
