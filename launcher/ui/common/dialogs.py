"""Small dialogs in plain words: the schema-upgrade question, errors, About."""

from __future__ import annotations

import importlib.metadata
import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import QMessageBox, QWidget

import launcher
from launcher.model.paths import AppPaths
from launcher.server.checks.failures import Failure


def confirm_schema_upgrade(name: str, failure: Failure, parent: QWidget | None = None) -> bool:
    """Ask before an upgrade, default No: it changes a database other people may share."""
    text = (
        f"The project “{name}” uses a database written by an older version of MLflow. "
        "To show it, the launcher's MLflow would have to upgrade the database's structure "
        "(its schema) first.\n\n"
        "After the upgrade, anyone who uses this database with the older MLflow can no longer "
        "log to it or open it until they upgrade MLflow too. The upgrade cannot be undone; for "
        "a SQLite file the launcher keeps a copy of the old file next to it.\n\n"
        "Upgrade the database now?"
    )
    answer = QMessageBox.question(
        parent,
        "Upgrade the database?",
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def mlflow_version() -> str:
    """The launcher's own MLflow, read from its metadata: importing MLflow would take seconds."""
    for dist in ("mlflow", "mlflow-skinny"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def about_text(paths: AppPaths) -> str:
    return (
        f"<h3>MLflow Launcher {launcher.__version__}</h3>"
        "<p>Every project's MLflow UI one click away.</p>"
        f"<p>MLflow {mlflow_version()}<br>Python {platform.python_version()}<br>"
        f"PySide6 {pyside_version}</p>"
        f"<p>Config: {paths.config_file}<br>Logs: {paths.log_dir}</p>"
    )


def show_about(paths: AppPaths, parent: QWidget | None = None) -> None:
    QMessageBox.about(parent, "About MLflow Launcher", about_text(paths))
