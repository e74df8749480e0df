"""The "New experiment name…" dialog: a conforming name, with the next free number, copied.

The team names experiments ``<project>_<stage>_<number>_<description>``. The dialog reads every
experiment name of the project's store once, in a worker thread (from the running server when
there is one, else from the store itself; deleted experiments count, since MLflow keeps their
names reserved), then previews the name live as the stage and description are typed, with
:func:`launcher.model.naming.next_name` (pure, instant). Copy name puts the name on the
clipboard; Copy tracking snippet puts the lines that log into the store under that name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from PySide6.QtCore import Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from launcher.model import naming
from launcher.model.naming import NamingError
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.snippet import tracking_snippet
from launcher.model.stores import StoreError
from launcher.ui.common.icons import app_icon
from launcher.ui.common.notes import note, show_note
from launcher.ui.common.widgets import named
from launcher.ui.common.workers import run_in_thread

NamesReader = Callable[[], list[str]]
"""Every experiment name of the project's store (blocking, may raise)."""


def stages_in(names: Iterable[str], prefix: str) -> list[str]:
    """The stages the project's conforming names use, most used first (then by name).

    Stages compare case-insensitively, as numbering does; each is shown as most often written.
    """
    if not prefix:
        return []
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for name in names:
        parsed = naming.parse_name(name, prefix)
        if parsed is None:
            continue
        key = parsed.stage.casefold()
        counts[key] += 1
        spellings.setdefault(key, Counter())[parsed.stage] += 1
    ordered = sorted(counts, key=lambda k: (-counts[k], k))
    return [spellings[k].most_common(1)[0][0] for k in ordered]


def snippet_for(project: Project, experiment: str, *, windows: bool | None = None) -> str:
    """The project's tracking snippet, logging to ``experiment``.

    ``windows`` as for :func:`~launcher.model.snippet.tracking_snippet`. Raises
    :class:`~launcher.model.stores.StoreError` for a store that cannot be parsed.
    """
    lines = tracking_snippet(project, windows=windows).splitlines()
    out = [
        f"mlflow.set_experiment({experiment!r})"
        if line.startswith("mlflow.set_experiment(")
        else line
        for line in lines
    ]
    return "\n".join(out) + "\n"


def suggest_prefix(project_name: str) -> str:
    return (re.sub(r"\W+", "_", project_name.lower()).strip("_") or "project") + "_"


def _store_reader(project: Project, paths: AppPaths, base_url: str | None) -> NamesReader:
    """The real reader; a plain closure, since the worker thread must hold no Qt object."""

    def read() -> list[str]:
        from launcher.server.stores import experiments

        return experiments.existing_names(project, paths, base_url=base_url)

    return read


class NameDialog(QDialog):
    """Build the next conforming experiment name for one project."""

    def __init__(
        self,
        project: Project,
        paths: AppPaths,
        *,
        base_url: str | None = None,
        read_names: NamesReader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.paths = paths
        self.base_url = base_url
        self._read_names: NamesReader = read_names or _store_reader(project, paths, base_url)
        self.names: list[str] | None = None
        """The store's names once read; None while reading or after a failure."""
        self.loading = False
        self.name = ""
        """The name previewed right now ('' when the input does not make one)."""
        self.setWindowTitle(f"New experiment name: {project.name}")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(520)

        self.prefix_edit = named(QLineEdit(project.prefix), "prefix")
        self.prefix_edit.setReadOnly(bool(project.prefix))
        if project.prefix:
            self.prefix_edit.setToolTip("The project's experiment prefix (set in its settings).")
        else:
            self.prefix_edit.setPlaceholderText(f"e.g. {suggest_prefix(project.name)}")
            self.prefix_edit.setToolTip(
                "This project has no experiment prefix: type the one these names start with."
            )
        self.stage_combo = named(QComboBox(), "stage")
        self.stage_combo.setEditable(True)
        self.stage_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.stage_combo.lineEdit()
        if line is not None:
            line.setPlaceholderText("e.g. train, eval, prep")
        self.description_edit = named(QLineEdit(), "description")
        self.description_edit.setPlaceholderText("a few words, e.g. bigger learning rate")
        self.preview = named(QLineEdit(), "preview")
        self.preview.setReadOnly(True)
        font = self.preview.font()
        font.setBold(True)
        self.preview.setFont(font)
        self.error_note = note("error")
        self.status_note = note("status")
        self.retry_button = named(QPushButton("Read again"), "retry")
        self.retry_button.setVisible(False)
        self.retry_button.clicked.connect(self.load_names)

        form = QFormLayout()
        form.addRow("Project prefix", self.prefix_edit)
        form.addRow("Pipeline stage", self.stage_combo)
        form.addRow("Description", self.description_edit)
        form.addRow("Name", self.preview)
        form.addRow("", self.error_note)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_note, 1)
        status_row.addWidget(self.retry_button)

        self.copy_name_button = named(QPushButton("Copy name"), "copy-name")
        self.copy_snippet_button = named(QPushButton("Copy tracking snippet"), "copy-snippet")
        self.copy_name_button.setDefault(True)
        self.copy_name_button.clicked.connect(self.copy_name)
        self.copy_snippet_button.clicked.connect(self.copy_snippet)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_name_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_snippet_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(status_row)
        layout.addWidget(buttons)

        self.prefix_edit.textChanged.connect(self._prefix_changed)
        self.stage_combo.currentTextChanged.connect(self.update_preview)
        self.description_edit.textChanged.connect(self.update_preview)
        self.load_names()

    # -- reading the store ---------------------------------------------------------------------

    @Slot()
    def load_names(self) -> None:
        if self.loading:
            return
        self.loading = True
        self.names = None
        self.retry_button.setVisible(False)
        where = "its server" if self.base_url else "the store"
        show_note(self.status_note, "info", f"Reading the experiment names from {where}…")
        self.update_preview()
        run_in_thread(
            self._read_names, self._names_read, self._names_failed, owner=self, name="names"
        )

    def _names_read(self, names: list[str]) -> None:
        self.loading = False
        self.names = list(names)
        self._fill_stages()
        count = len(self.names)
        show_note(
            self.status_note,
            "ok",
            f"{count} experiment name{'s' if count != 1 else ''} read (deleted ones included): "
            "the number is the next free one for the stage.",
        )
        self.update_preview()

    def _names_failed(self, exc: BaseException) -> None:
        self.loading = False
        self.names = None
        show_note(
            self.status_note,
            "error",
            f"Could not read the experiment names ({exc}), so the next number cannot be "
            "proposed safely.",
        )
        self.retry_button.setVisible(True)
        self.update_preview()

    def _prefix_changed(self) -> None:
        self._fill_stages()
        self.update_preview()

    def _fill_stages(self) -> None:
        current = self.stage_combo.currentText()
        stages = stages_in(self.names or [], self.prefix_edit.text().strip())
        self.stage_combo.blockSignals(True)
        self.stage_combo.clear()
        self.stage_combo.addItems(stages)
        if current.strip() or not stages:
            self.stage_combo.setEditText(current)
        else:
            self.stage_combo.setCurrentIndex(0)  # the most used stage
        self.stage_combo.blockSignals(False)

    # -- the name ------------------------------------------------------------------------------

    @Slot()
    def update_preview(self) -> None:
        """Recompute the name from the fields; show the first problem inline."""
        self.name = ""
        level, problem = self._compute()
        self.preview.setText(self.name)
        show_note(self.error_note, level, problem)
        self.copy_name_button.setEnabled(bool(self.name))
        self.copy_snippet_button.setEnabled(bool(self.name))

    def _compute(self) -> tuple[str, str]:
        prefix = self.prefix_edit.text().strip()
        stage = self.stage_combo.currentText().strip()
        description = self.description_edit.text()
        if not prefix:
            return (
                "error",
                f"Project {self.project.name!r} has no experiment prefix: type the one its "
                f"experiment names start with (e.g. {suggest_prefix(self.project.name)!r}), or "
                "set it in the project's settings.",
            )
        if not stage:
            return ("info", "Pick or type the pipeline stage.")
        try:
            naming.validate_stage(stage)
        except NamingError as exc:
            return ("error", str(exc))
        if not description.strip():
            return ("info", "Type a short description.")
        try:
            naming.sanitize_description(description)
        except NamingError as exc:
            return ("error", str(exc))
        if self.names is None:
            return ("", "")  # the status line says what is going on
        try:
            self.name = naming.next_name(self.names, prefix, stage, description)
        except NamingError as exc:
            return ("error", str(exc))
        return ("", "")

    # -- copying -------------------------------------------------------------------------------

    @Slot()
    def copy_name(self) -> None:
        if not self.name:
            return
        QGuiApplication.clipboard().setText(self.name)
        show_note(self.status_note, "ok", f"Copied {self.name}")

    @Slot()
    def copy_snippet(self) -> None:
        if not self.name:
            return
        try:
            text = snippet_for(self.project, self.name)
        except StoreError as exc:
            show_note(self.error_note, "error", f"No snippet for this store: {exc}")
            return
        QGuiApplication.clipboard().setText(text)
        show_note(self.status_note, "ok", f"Copied the tracking snippet for {self.name}")
