""" "Move to SQLite…": the migration of one folder store, with progress, cancel and the report.

The dialog receives what it needs (the project, the app's paths, and what to do when the user
chose to switch); it imports nothing of whoever opened it. The migration runs in a worker
thread (``launcher.ui.common.workers``); Cancel sets an event the migration checks, which kills
MLflow's converter and deletes the temporary file. Closing the window while it runs cancels it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.stores import migration
from launcher.ui.common.widgets import named
from launcher.ui.common.workers import run_with_progress


class MigrateDialog(QDialog):
    def __init__(
        self,
        project: Project,
        paths: AppPaths,
        on_switch: Callable[[Project, str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.paths = paths
        self.on_switch = on_switch
        self.cancel_event = threading.Event()
        self.running = False
        self.outcome: migration.Result | None = None
        self.setWindowTitle(f"Move {project.name} to SQLite")
        self.setMinimumWidth(560)
        self.target_edit = named(QLineEdit(str(migration.default_target(paths, project))), "target")
        browse = named(QPushButton("Browse…"), "browse-target")
        browse.clicked.connect(self._browse)
        self.note = named(QLabel(), "note")
        self.note.setWordWrap(True)
        self.switch_check = named(
            QCheckBox(f"Then open {project.name!r} from the new database (keep the folder as "
                      f"{project.name + ' (folder)'!r})"),
            "switch",
        )  # fmt: skip
        self.switch_check.setChecked(True)
        self.progress = named(QProgressBar(), "progress")
        self.progress.setVisible(False)
        self.status = named(QLabel(), "status")
        self.report = named(QPlainTextEdit(readOnly=True), "report")
        self.report.setVisible(False)
        self.buttons = QDialogButtonBox()
        self.start_button = named(
            self.buttons.addButton("Move", QDialogButtonBox.ButtonRole.AcceptRole), "start"
        )
        self.close_button = named(
            self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel), "cancel"
        )
        self.start_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.cancel_or_close)

        form = QFormLayout()
        form.addRow("Folder store", QLabel(project.store))
        row = QHBoxLayout()
        row.addWidget(self.target_edit, 1)
        row.addWidget(browse)
        form.addRow("New database", row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.switch_check)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.report)
        layout.addWidget(self.buttons)
        self.target_edit.textChanged.connect(self._check_target)
        self._check_target()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "New SQLite database", self.target_edit.text(), "SQLite (*.db)"
        )
        if path:
            self.target_edit.setText(path)

    def plan(self) -> migration.Plan:
        return migration.plan(self.project, self.paths, self.target_edit.text().strip())

    def _check_target(self) -> None:
        try:
            the_plan = self.plan()
        except migration.MigrationError as exc:
            self.note.setText(str(exc))
            self.start_button.setEnabled(False)
            return
        self.start_button.setEnabled(not self.running)
        self.note.setText(
            (the_plan.warning + "\n" if the_plan.warning else "")
            + "The folder store is only read. Artifacts are not copied: they stay where they "
            "are, and the database points at them."
        )

    def start(self) -> None:
        try:
            the_plan = self.plan()
        except migration.MigrationError as exc:
            self.note.setText(str(exc))
            return
        self.running = True
        self.cancel_event.clear()
        self.start_button.setEnabled(False)
        self.target_edit.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText("Starting MLflow's migration…")

        def work(report: Callable[[Any], None]) -> migration.Result:
            return migration.migrate(
                the_plan, self.paths, progress=report, cancel=self.cancel_event
            )

        run_with_progress(
            work, self._progress, self._done, self._failed, owner=self, name="migration"
        )

    def _progress(self, step: migration.Step) -> None:
        if step.total:
            self.progress.setRange(0, step.total)
            self.progress.setValue(step.done)
        else:
            self.progress.setRange(0, 0)
        self.status.setText(step.describe())

    def _finish(self) -> None:
        self.running = False
        self.progress.setVisible(False)
        self.close_button.setText("Close")
        self.report.setVisible(True)

    def _done(self, result: migration.Result) -> None:
        self._finish()
        self.outcome = result
        text = result.report()
        if result.ok and self.switch_check.isChecked():
            self.on_switch(self.project, str(result.plan.target))
            text += f"\n{self.project.name!r} now opens the new database."
        self.status.setText("Done: verified." if result.ok else "The stores differ: not switched.")
        self.report.setPlainText(text)

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self.status.setText(
            "Cancelled." if isinstance(exc, migration.MigrationCancelled) else "Failed."
        )
        self.report.setPlainText(str(exc))
        self.target_edit.setEnabled(True)
        self._check_target()

    def cancel_or_close(self) -> None:
        if self.running:
            self.cancel_event.set()
            self.status.setText("Cancelling…")
            return
        self.reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel_event.set()  # a closed window never leaves a migration running
        super().closeEvent(event)
