""" "Move to…": one store moved to a new SQLite file or to a team database, with progress,
cancel and the verified report.

Two targets: a new SQLite file (a folder store only: MLflow's converter, ``move.to_sqlite``) or a
team database, PostgreSQL or MySQL (a folder or SQLite store: ``move.to_database``; its fields and
the refusals' plain words are in ``move_target``). The dialog receives what it needs (the project,
the app's paths, and what to do when the user chose to switch); it imports nothing of whoever
opened it. The move runs in a worker thread (``launcher.ui.common.workers``); Cancel sets an event
the move checks, which kills its child process: no file under the target's name, nothing committed
in the database. Closing the window while it runs cancels it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
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
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreError, StoreKind
from launcher.server.stores.move import to_database, to_sqlite
from launcher.server.stores.move.child_run import MoveError, Step
from launcher.ui.common.widgets import beside, named
from launcher.ui.common.workers import run_with_progress
from launcher.ui.hosts import SwitchTo
from launcher.ui.settings.move_target import DatabaseFields, plain_cause

Plan = to_sqlite.Plan | to_database.DatabasePlan


def _source_kind(project: Project) -> StoreKind | None:
    try:
        return project.parsed_store().kind
    except StoreError:
        return None


class MoveDialog(QDialog):
    def __init__(
        self,
        project: Project,
        paths: AppPaths,
        on_switch: SwitchTo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.paths = paths
        self.on_switch = on_switch
        self.cancel_event = threading.Event()
        self.running = False
        self.committing = False
        """The launcher said yes to the child's commit: a cancel would be refused now."""
        self.outcome: to_sqlite.Result | to_database.DatabaseResult | None = None
        kind = _source_kind(project)
        self.kept_as = "sqlite" if kind is StoreKind.SQLITE else "folder"
        self.setWindowTitle(f"Move {project.name} to…")
        self.setMinimumWidth(600)
        self.to_sqlite = named(QRadioButton("A new SQLite file"), "to-sqlite")
        self.to_database = named(QRadioButton("A team database (PostgreSQL, MySQL)"), "to-database")
        group = QButtonGroup(self)
        group.addButton(self.to_sqlite)
        group.addButton(self.to_database)
        self.target_edit = named(QLineEdit(str(to_sqlite.default_target(paths, project))), "target")
        browse = named(QPushButton("Browse…"), "browse-target")
        browse.clicked.connect(self._browse)
        self.sqlite_fields = QWidget()
        sqlite_form = QFormLayout(self.sqlite_fields)
        sqlite_form.setContentsMargins(0, 0, 0, 0)
        sqlite_form.addRow("New database", beside(self.target_edit, browse))
        self.database = DatabaseFields(project, self)
        self.note = named(QLabel(), "note")
        self.note.setWordWrap(True)
        kept = f"{project.name} ({self.kept_as})"
        self.switch_check = named(
            QCheckBox(f"Then open {project.name!r} from the new database (keep the old store as "
                      f"{kept!r})"),
            "switch",
        )  # fmt: skip
        self.switch_check.setChecked(True)
        self.progress = named(QProgressBar(), "progress")
        self.progress.setVisible(False)
        self.status = named(QLabel(), "status")
        self.status.setWordWrap(True)
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
        form.addRow("Store", QLabel(project.store))
        targets = QHBoxLayout()
        targets.addWidget(self.to_sqlite)
        targets.addWidget(self.to_database)
        targets.addStretch(1)
        form.addRow("Move to", targets)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.sqlite_fields)
        layout.addWidget(self.database)
        layout.addWidget(self.note)
        layout.addWidget(self.switch_check)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.report)
        layout.addWidget(self.buttons)
        folder = kind is StoreKind.FOLDER
        self.to_sqlite.setEnabled(folder)
        if not folder:
            self.to_sqlite.setToolTip("Only a folder store moves to a SQLite file.")
        (self.to_sqlite if folder else self.to_database).setChecked(True)
        group.buttonToggled.connect(lambda *_: self._check_target())
        for edit in (self.target_edit, self.database.url_edit, self.database.password_edit,
                     self.database.artifacts_edit, self.database.workspace_edit):  # fmt: skip
            edit.textChanged.connect(self._check_target)
        self._check_target()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "New SQLite database", self.target_edit.text(), "SQLite (*.db)"
        )
        if path:
            self.target_edit.setText(path)

    def plan(self) -> Plan:
        if self.to_database.isChecked():
            return self.database.plan(self.paths)
        return to_sqlite.plan(self.project, self.paths, self.target_edit.text().strip())

    def _check_target(self) -> None:
        to_database = self.to_database.isChecked()
        self.sqlite_fields.setVisible(not to_database)
        self.database.setVisible(to_database)
        try:
            the_plan = self.plan()
        except MoveError as exc:
            self.note.setText(self.database.hide_secret(str(exc)))
            self.start_button.setEnabled(False)
            return
        self.start_button.setEnabled(not self.running)
        warning = getattr(the_plan, "warning", None)
        store = "SQLite" if self.kept_as == "sqlite" else "folder"
        self.note.setText(
            (warning + "\n" if warning else "")
            + f"The {store} store is only read. Artifacts are not copied: they stay where they "
            "are, and the database points at them."
            + (" The database must be empty (or, as a workspace, not have it yet); nothing is "
               "committed unless the whole copy matches." if to_database else "")
        )  # fmt: skip

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (self.target_edit, self.to_sqlite, self.to_database, self.switch_check):
            widget.setEnabled(enabled)
        self.to_sqlite.setEnabled(enabled and self.kept_as == "folder")
        self.database.set_enabled(enabled)

    def start(self) -> None:
        try:
            the_plan = self.plan()
        except MoveError as exc:
            self.note.setText(self.database.hide_secret(str(exc)))
            return
        self.running = True
        self.cancel_event.clear()
        self.start_button.setEnabled(False)
        self._set_inputs_enabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.report.setVisible(False)
        self.status.setText("Starting the move…")
        paths, cancel = self.paths, self.cancel_event

        def work(report: Callable[[Any], None]) -> Any:
            if isinstance(the_plan, to_database.DatabasePlan):
                return to_database.move(the_plan, paths, progress=report, cancel=cancel)
            return to_sqlite.move(the_plan, paths, progress=report, cancel=cancel)

        run_with_progress(work, self._progress, self._done, self._failed, owner=self, name="move")

    def _progress(self, step: Step) -> None:
        if step.phase == "commit":  # too late to cancel: the copy is being committed
            self.committing = True
            self.close_button.setEnabled(False)
        if step.total:
            self.progress.setRange(0, step.total)
            self.progress.setValue(step.done)
        else:
            self.progress.setRange(0, 0)
        self.status.setText(self.database.hide_secret(step.describe()))

    def _finish(self) -> None:
        self.running = False
        self.committing = False
        self.close_button.setEnabled(True)
        self.progress.setVisible(False)
        self.close_button.setText("Close")
        self.report.setVisible(True)

    def _done(self, result: to_sqlite.Result | to_database.DatabaseResult) -> None:
        self._finish()
        self.outcome = result
        text = result.report()
        if result.ok and self.switch_check.isChecked():
            the_plan = result.plan
            if isinstance(the_plan, to_database.DatabasePlan):
                self.on_switch(
                    self.project,
                    the_plan.url,
                    kept_as=the_plan.source_kind.value,
                    artifacts=the_plan.artifacts,
                    workspace=the_plan.workspace,
                )
            else:
                self.on_switch(self.project, str(the_plan.target))
            text += f"\n{self.project.name!r} now opens the new database."
        self.status.setText("Done: verified." if result.ok else "The stores differ: not switched.")
        self.report.setPlainText(self.database.hide_secret(text))
        self.database.password_edit.clear()

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self.status.setText(plain_cause(exc))
        self.report.setPlainText(self.database.hide_secret(str(exc)))
        self._set_inputs_enabled(True)
        self._check_target()

    def cancel_or_close(self) -> None:
        if self.running:
            self.cancel_event.set()
            self.status.setText("Cancelling…")
            return
        self.reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.committing:  # a second or so: the window then says what was written
            event.ignore()
            return
        self.cancel_event.set()  # a closed window never leaves a move running
        super().closeEvent(event)
