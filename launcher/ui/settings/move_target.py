"""The "Move to…" dialog's team-database target: the database URL, its password (echo off) and
the artifacts location, turned into the move's plan; and a refusal's named cause in plain words.

The password is handed to ``move.to_database.plan`` exactly as the command line hands it (which puts
it into the URL the child gets through its environment, never argv); it is never logged, and no
text this module makes shows it: the plan's :attr:`~DatabasePlan.target` is the URL redacted.
"""

from __future__ import annotations

import urllib.parse

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import redact, workspace_for, workspace_problem
from launcher.server.stores.move import gather, to_database
from launcher.server.stores.move.child_run import MoveCancelled, MoveError
from launcher.server.stores.move.to_database import DatabasePlan
from launcher.ui.common.widgets import beside, named

CAUSES = {
    "target-auth": "The database server refused the user name or the password.",
    "target-unreachable": "The database server could not be reached: check the host and the "
    "port, and that the server runs and accepts connections from this PC.",
    "target-no-database": "The server has no database of that name: ask its administrator for "
    "an empty one, or correct the name at the end of the URL.",
    "target-not-empty": "The database already holds MLflow data: the move only writes into an "
    "empty database.",
    "target-schema": "The database holds MLflow tables of another MLflow version: use an empty "
    "database.",
    "source-schema": "The store's schema is older than this MLflow's: open the project once and "
    "accept the schema upgrade, then move it.",
    "target-driver": "The project's Python environment has no driver for this database "
    "(psycopg2 for PostgreSQL, PyMySQL for MySQL): install it there.",
    "copy-differs": "The copy in the database did not match the store, so it was not committed.",
    "artifacts-required": "A team database needs an artifacts location every colleague can read.",
    "workspace-exists": "The database already has a workspace of that name: pick another.",
    "target-duplicate": "The database already holds this store's records: was it gathered before?",
}
"""The named causes of ``child/move/to_database.py`` and ``move.to_database``, in plain words."""


def plain_cause(exc: BaseException) -> str:
    """The status line for a move that did not end: Cancelled, a named refusal, or Failed."""
    if isinstance(exc, MoveCancelled):
        return "Cancelled."
    cause = getattr(exc, "cause", None)
    if cause in CAUSES:
        return f"Refused: {CAUSES[cause]} Nothing was changed."
    return "Failed. Nothing was changed."


def default_artifacts(project: Project) -> str:
    """Pre-filled as the command line defaults it: the project's own, else where they are."""
    return project.artifacts or to_database.suggest_artifacts(project) or ""


class DatabaseFields(QWidget):
    """The URL, the password and the artifacts location of a move to a team database."""

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.url_edit = named(QLineEdit(), "database-url")
        self.url_edit.setPlaceholderText("postgresql://user@host:5432/mlflow  or  mysql://...")
        self.password_edit = named(QLineEdit(), "database-password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("kept in the credential store after the switch")
        self.artifacts_edit = named(QLineEdit(default_artifacts(project)), "artifacts")
        self.artifacts_edit.setToolTip(
            "Artifacts are not copied: new experiments in the database put theirs here, so every "
            "colleague must be able to read it (the share the artifacts already live on)."
        )
        browse = named(QPushButton("Browse…"), "browse-artifacts")
        browse.clicked.connect(self._browse)
        self.workspace_edit = named(QLineEdit(), "workspace")
        self.workspace_edit.setPlaceholderText(
            f"empty: the whole (empty) database; or e.g. {workspace_for(project.name)}"
        )
        self.workspace_edit.setToolTip(
            "As a new MLflow workspace of a database that may hold others (gather): the "
            "database may then also be a SQLite file on the team server's PC."
        )
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Database URL", self.url_edit)
        form.addRow("Password", self.password_edit)
        form.addRow("Artifacts", beside(self.artifacts_edit, browse))
        form.addRow("As workspace", self.workspace_edit)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Artifacts location", self.artifacts_edit.text()
        )
        if folder:
            self.artifacts_edit.setText(folder)

    def set_enabled(self, enabled: bool) -> None:
        for edit in (self.url_edit, self.password_edit, self.artifacts_edit, self.workspace_edit):
            edit.setEnabled(enabled)

    def plan(self, paths: AppPaths) -> DatabasePlan:
        """The move's plan (no connection yet); MoveError says what is missing."""
        url = self.url_edit.text().strip()
        if not url:
            raise MoveError(
                "Give the database's URL: postgresql://user@host:5432/db or mysql://user@host/db "
                "(an empty database; the password goes in its own field)."
            )
        workspace = self.workspace_edit.text().strip()
        if workspace:
            problem = workspace_problem(workspace) or gather.target_problem(url)
            if problem:
                raise MoveError(problem[0].upper() + problem[1:])
        elif not to_database.is_database_url(url):
            raise MoveError(f"{redact(url)} is not a PostgreSQL or MySQL database URL.")
        password = self.password_edit.text() or None
        try:
            user = urllib.parse.urlsplit(url).username
        except ValueError as exc:
            raise MoveError(f"{redact(url)} is not a valid URL.") from exc
        if password and not user:
            raise MoveError("Put the user name into the URL: postgresql://USER@host/db.")
        artifacts = self.artifacts_edit.text().strip()
        if not artifacts:
            raise MoveError(
                CAUSES["artifacts-required"] + " Artifacts are not copied: give the folder or "
                "share they live on.",
                "artifacts-required",
            )
        return to_database.plan(
            self.project, paths, url, password=password, artifacts=artifacts, workspace=workspace
        )

    @staticmethod
    def hide_secret(text: str) -> str:
        """``text`` with every URL's password masked (the moves mask the typed one too)."""
        return redact(text)
