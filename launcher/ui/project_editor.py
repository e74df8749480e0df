"""The editor for one project: validated as you type, checked by the doctor on request.

Everything that can be decided from the text is checked at once (unknown scheme, relative path,
duplicate name). Whether the store exists is asked in a thread after a short pause in typing,
since a path on an offline share can take many seconds to answer; the Check button runs the
core's doctor the same way. The dialog never freezes.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from launcher.model.project import Project, ProjectError, validate
from launcher.model.stores import Store, StoreError, StoreKind, parse_store
from launcher.server.manager import State
from launcher.server.python.interpreters import Interpreter
from launcher.ui.dialogs import mlflow_version
from launcher.ui.hosts import EditorHost
from launcher.ui.icons import app_icon
from launcher.ui.widgets import named
from launcher.ui.workers import run_in_thread

EXISTS_DEBOUNCE_MS = 400
EXISTS_TIMEOUT = 10.0
_COLORS = {"error": "#c62828", "warning": "#b26a00", "ok": "#2e7d32", "info": "#555555"}
_MARKS = {"ok": "✔", "warning": "⚠", "error": "✖"}

_interpreters: list[Interpreter] | None = None
"""Interpreters found by the first editor of this session; later editors reuse the list."""


def split_args(text: str) -> list[str]:
    """Split extra arguments like a shell would, but keep backslashes (Windows paths).

    Double or single quotes group words; nothing else is special. Raises ValueError for an
    unclosed quote.
    """
    args: list[str] = []
    current: list[str] = []
    quote = ""
    in_word = False
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
            in_word = True
        elif ch.isspace():
            if in_word:
                args.append("".join(current))
                current, in_word = [], False
        else:
            current.append(ch)
            in_word = True
    if quote:
        raise ValueError(f"A {quote} quote is not closed.")
    if in_word:
        args.append("".join(current))
    return args


def join_args(args: list[str]) -> str:
    """The inverse of :func:`split_args`."""
    out = []
    for arg in args:
        if not arg or any(c.isspace() for c in arg) or '"' in arg or "'" in arg:
            quote = "'" if '"' in arg else '"'
            out.append(f"{quote}{arg}{quote}")
        else:
            out.append(arg)
    return " ".join(out)


class ProjectEditor(QDialog):
    """Add (``is_new``) or edit one project; saving goes through its host (the controller)."""

    def __init__(
        self,
        controller: EditorHost,
        project: Project | None = None,
        *,
        is_new: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.original = project or Project(name="", store="")
        self.old_name = "" if is_new or project is None else project.name
        self.setWindowTitle("Add project" if not self.old_name else f"Edit {self.old_name}")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(620)
        self._store: Store | None = None
        self._exists_note: tuple[str, str] | None = None
        self._touched: set[QWidget] = set()
        """Fields whose errors show: changed, left, or filled when the dialog opened."""
        self._save_tried = False
        """Save was pressed: every error shows, touched or not."""
        self._error_shown = False

        self.name_edit = named(QLineEdit(self.original.name), "name")
        self.name_note = _note()
        self.store_edit = named(QLineEdit(self.original.store), "store")
        self.store_edit.setPlaceholderText(
            r"\\server\share\mlruns, C:\path\mlflow.db, sqlite:///..., postgresql://..."
        )
        self.store_note = _note(lines=2)
        browse = named(QToolButton(), "browse-store")
        browse.setText("Browse")
        browse.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        browse_menu = QMenu(browse)
        browse_menu.addAction("Folder (mlruns)…").triggered.connect(self._browse_folder)
        browse_menu.addAction("SQLite file…").triggered.connect(self._browse_sqlite)
        browse.setMenu(browse_menu)
        self.prefix_edit = named(QLineEdit(self.original.prefix), "prefix")
        self.prefix_edit.setPlaceholderText("e.g. dra_ (optional)")
        self.python_combo = named(QComboBox(), "python")
        self.python_combo.setEditable(True)
        self.python_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.python_combo.setMinimumContentsLength(40)
        self.python_note = _note(lines=2)
        python_browse = named(QPushButton("Browse…"), "browse-python")
        python_browse.clicked.connect(self._browse_python)
        self.args_edit = named(QLineEdit(join_args(self.original.extra_args)), "args")
        self.args_edit.setPlaceholderText(
            "extra mlflow server options, e.g. --static-prefix /mlflow"
        )
        self.args_note = _note()
        self.port_spin = named(QSpinBox(), "port")
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText("any free port")
        self.port_spin.setValue(self.original.port)
        self.artifacts_edit = named(QLineEdit(self.original.artifacts), "artifacts")
        self.artifacts_edit.setPlaceholderText(
            "where new experiments' artifacts go, for a database (default: this PC's data folder)"
        )
        self.artifacts_note = _note(lines=2)
        self.access_check = named(QCheckBox("Protect with an access key"), "access-key")
        self.access_check.setChecked(self.original.access_key)
        self.access_check.setToolTip(
            "Only links from the launcher (and scripts given MLFLOW_TRACKING_TOKEN) get in; "
            "other users and programs of this PC get 403. Turn off for tools pointed at a "
            "fixed port."
        )
        self.access_note = _note(lines=2)
        self.fast_view_check = named(
            QCheckBox("Fast view: serve a local read-only copy of a folder store"), "fast-view"
        )
        self.fast_view_check.setToolTip(
            "For a share others still log to: the launcher keeps a SQLite copy of it, serves that "
            "(changes are refused) and refreshes it; artifacts stay on the share."
        )
        self.fast_view_check.setChecked(self.original.fast_view)
        self.general_note = _note(lines=2)
        running = bool(self.old_name) and controller.state(self.old_name) is State.RUNNING
        self.running_note = QLabel(
            "This project is running: changes apply the next time it starts (Restart)."
        )
        self.running_note.setVisible(running)

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.name_note)
        store_row = QHBoxLayout()
        store_row.addWidget(self.store_edit, 1)
        store_row.addWidget(browse)
        form.addRow("Store", store_row)
        form.addRow("", self.store_note)
        form.addRow("Experiment prefix", self.prefix_edit)
        python_row = QHBoxLayout()
        python_row.addWidget(self.python_combo, 1)
        python_row.addWidget(python_browse)
        form.addRow("Python environment", python_row)
        form.addRow("", self.python_note)
        form.addRow("Extra arguments", self.args_edit)
        form.addRow("", self.args_note)
        form.addRow("Port", self.port_spin)
        form.addRow("Artifacts location", self.artifacts_edit)
        form.addRow("", self.artifacts_note)
        form.addRow("", self.access_check)
        form.addRow("", self.access_note)
        form.addRow("", self.fast_view_check)

        self.check_button = named(QPushButton("Check"), "check")
        self.check_button.setToolTip("Ask the doctor: is the store reachable, what is in it?")
        self.check_button.clicked.connect(self.run_check)
        self.findings = named(QPlainTextEdit(readOnly=True), "findings")
        self.findings.setVisible(False)
        self.findings.setMinimumHeight(130)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.move_button = named(QPushButton("Move to SQLite…"), "move-to-sqlite")
        self.move_button.setToolTip(
            "Copy this folder store into a new SQLite database (verified; the folder is kept)."
        )
        self.move_button.clicked.connect(lambda: controller.move_to_sqlite(self.old_name))
        self.move_button.setVisible(bool(self.old_name) and _is_folder(self.original.store))
        bottom = QHBoxLayout()
        bottom.addWidget(self.check_button)
        bottom.addWidget(self.move_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general_note)
        layout.addWidget(self.running_note)
        layout.addWidget(self.findings)
        layout.addLayout(bottom)

        self._exists_timer = QTimer(self, singleShot=True, interval=EXISTS_DEBOUNCE_MS)
        self._exists_timer.timeout.connect(self._check_exists)
        for edit in (
            self.name_edit,
            self.store_edit,
            self.args_edit,
            self.prefix_edit,
            self.artifacts_edit,
        ):
            if edit.text():
                self._touched.add(edit)
            edit.textChanged.connect(lambda _text, edit=edit: self._touch(edit))
            edit.editingFinished.connect(lambda edit=edit: self._touch(edit))
        self.python_combo.currentTextChanged.connect(self.validate)
        self.port_spin.valueChanged.connect(self.validate)
        self.access_check.toggled.connect(self.validate)
        self.fast_view_check.toggled.connect(self.validate)
        self._fill_pythons()
        self.validate()

    # -- the project as typed ------------------------------------------------------------------

    @property
    def save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def python_value(self) -> str:
        """The chosen interpreter's path; '' is the launcher's own."""
        text = self.python_combo.currentText().strip()
        index = self.python_combo.findText(text, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            return str(self.python_combo.itemData(index) or "")
        return text

    def project(self) -> Project:
        """The project as the fields say now (raises ValueError for bad extra arguments)."""
        return replace(
            self.original,
            name=self.name_edit.text(),
            store=self.store_edit.text().strip(),
            prefix=self.prefix_edit.text(),
            python=self.python_value(),
            extra_args=split_args(self.args_edit.text()),
            port=self.port_spin.value(),
            access_key=self.access_check.isChecked(),
            artifacts=self.artifacts_edit.text().strip(),
            fast_view=self.fast_view_check.isChecked(),
        )

    # -- validation ----------------------------------------------------------------------------

    def _touch(self, edit: QWidget) -> None:
        self._touched.add(edit)
        self.validate()

    def _note(self, field: QWidget, label: QLabel, level: str, text: str) -> bool:
        """A field's note; an error stays unsaid until the field was touched or Save pressed.

        A form that greets the user with "needs a name" before they typed anything reads as
        a scolding. The error still counts (the result is False); it is only not shown.
        """
        if level == "error" and field not in self._touched and not self._save_tried:
            _show(label, "", "")
            return False
        self._error_shown |= level == "error"
        return _show(label, level, text)

    @Slot()
    def validate(self) -> bool:
        """Check everything that needs no disk access; True when the project can be saved.

        Save stays enabled while the only errors are unsaid ones, so that pressing it says
        them; Check needs a valid project.
        """
        self._error_shown = False
        ok = True
        name = self.name_edit.text()
        other = self.controller.find(name) if name.strip() else None
        if not name.strip():
            ok = self._note(self.name_edit, self.name_note, "error", "A project needs a name.")
        elif other is not None and other.name.casefold() != self.old_name.casefold():
            ok = self._note(
                self.name_edit, self.name_note, "error",
                f"There is already a project named {other.name!r}.",
            )  # fmt: skip
        else:
            _show(self.name_note, "", "")
        ok = self._validate_store() and ok
        try:
            split_args(self.args_edit.text())
            _show(self.args_note, "", "")
        except ValueError as exc:
            ok = self._note(self.args_edit, self.args_note, "error", str(exc))
        if ok:
            try:
                validate(self.project())
                _show(self.general_note, "", "")
            except (ProjectError, StoreError, ValueError) as exc:
                ok = _show(self.general_note, "error", str(exc))
                self._error_shown = True
        else:
            _show(self.general_note, "", "")
        self.save_button.setEnabled(ok or not self._error_shown)
        self.check_button.setEnabled(ok)
        self._note_access()
        return ok

    def _note_access(self) -> None:
        """Say in plain words when the server will not be protected (access_key.protection)."""
        from launcher.model.stores import StoreKind
        from launcher.server import access_key
        from launcher.server.python.server_command import parse_extra
        from launcher.server.stores import artifact_root

        try:
            project = self.project()
            lean_args = parse_extra(project.extra_args)[1]
        except ValueError:
            return
        if self._store is not None:  # a team database asks for a shared artifacts location
            fine, where = artifact_root.describe(project, self._store, self.controller.paths)
            _show(self.artifacts_note, "" if fine else "warning", "" if fine else where)
        remote = self._store is not None and self._store.kind is StoreKind.REMOTE
        protected, text = access_key.protection(
            project, remote=remote, lean=None if lean_args else False
        )
        _show(self.access_note, "" if protected else "warning", "" if protected else text)

    def _validate_store(self) -> bool:
        text = self.store_edit.text().strip()
        try:
            store = parse_store(text)
        except StoreError as exc:
            self._store = None
            self._exists_timer.stop()
            return self._note(self.store_edit, self.store_note, "error", str(exc))
        if store != self._store:
            self._store = store
            self._exists_note = None
            if store.path:
                self._exists_timer.start()
        note = self._exists_note
        if note is not None:
            _show(self.store_note, note[0], f"{store.kind.label}: {note[1]}")
        elif store.path:
            _show(self.store_note, "info", f"{store.kind.label}: checking that it exists…")
        else:
            _show(self.store_note, "ok", f"{store.kind.label}: {store.display}")
        return True

    @Slot()
    def _check_exists(self) -> None:
        store = self._store
        if store is None or not store.path:
            return
        from launcher.server.stores.reachable import path_exists

        path = store.path

        def done(exists: bool | None) -> None:
            if self._store is not store:
                return  # the text changed meanwhile
            if exists:
                self._exists_note = ("ok", store.display)
            elif exists is None:
                self._exists_note = (
                    "warning",
                    f"{store.display} did not answer within {EXISTS_TIMEOUT:.0f} s "
                    "(share offline or VPN down?). You can still save it.",
                )
            else:
                self._exists_note = (
                    "warning",
                    f"{store.display} does not exist. The launcher never creates a store it is "
                    "pointed at: check the path, or create the store with MLflow first.",
                )
            self._validate_store()

        run_in_thread(lambda: path_exists(path, EXISTS_TIMEOUT), done, owner=self, name="exists")

    # -- the doctor ----------------------------------------------------------------------------

    @Slot()
    def run_check(self) -> None:
        """Run the core's doctor on the project as typed, in a thread; show its findings."""
        try:
            project = self.project()
        except ValueError as exc:
            self._show_findings(f"✖ {exc}")
            return
        paths = self.controller.paths
        self.check_button.setEnabled(False)
        self.check_button.setText("Checking…")
        self._show_findings("Checking the store… (a share that is offline can take a while)")

        def diagnose() -> str:
            from launcher.server.checks import doctor

            report = doctor.diagnose(project, paths)
            lines = [f"{_MARKS.get(f.level, '•')} {f.topic}: {f.text}" for f in report.findings]
            verdict = "All good." if report.ok else "Problems found."
            return "\n".join([verdict, "", *lines]) if lines else report.format()

        def done(text: str) -> None:
            self._reset_check_button()
            self._show_findings(text)

        def failed(exc: BaseException) -> None:
            self._reset_check_button()
            if isinstance(exc, ImportError):
                self._show_findings("✖ The doctor is not available in this version.")
            else:
                self._show_findings(f"✖ The check itself failed: {type(exc).__name__}: {exc}")

        run_in_thread(diagnose, done, failed, owner=self, name="doctor")

    def _reset_check_button(self) -> None:
        self.check_button.setText("Check")
        self.validate()

    def _show_findings(self, text: str) -> None:
        self.findings.setVisible(True)
        self.findings.setPlainText(text)

    # -- interpreters --------------------------------------------------------------------------

    def _fill_pythons(self) -> None:
        self.python_combo.blockSignals(True)
        self.python_combo.clear()
        self.python_combo.addItem(f"The launcher's own (MLflow {mlflow_version()})", "")
        found = _interpreters or []
        for interpreter in found:
            if interpreter.python:
                self.python_combo.addItem(interpreter.label, interpreter.python)
        current = self.original.python
        index = self.python_combo.findData(current)
        if index < 0 and current:
            self.python_combo.addItem(current, current)
            index = self.python_combo.count() - 1
        self.python_combo.setCurrentIndex(max(0, index))
        self.python_combo.blockSignals(False)
        if _interpreters is None:
            _show(self.python_note, "info", "Looking for Python environments with MLflow…")
            run_in_thread(_discover, self._interpreters_found, self._discovery_failed,
                          owner=self, name="interpreters")  # fmt: skip
        else:
            self._note_pythons(found)

    @Slot(object)
    def _interpreters_found(self, found: list[Interpreter]) -> None:
        global _interpreters
        _interpreters = found
        chosen = self.python_value()
        typed = self.python_combo.currentText()
        self.python_combo.blockSignals(True)
        for interpreter in found:
            if interpreter.python and self.python_combo.findData(interpreter.python) < 0:
                self.python_combo.addItem(interpreter.label, interpreter.python)
        index = self.python_combo.findData(chosen)
        if index >= 0 and self.python_combo.itemText(index) != typed:
            self.python_combo.setCurrentIndex(index)
        self.python_combo.blockSignals(False)
        self._note_pythons(found)
        self.validate()

    def _note_pythons(self, found: list[Interpreter]) -> None:
        others = [i for i in found if i.python]
        if others:
            _show(
                self.python_note, "info", f"{len(others)} other environment(s) with MLflow found."
            )
        else:
            _show(self.python_note, "info", "No other environment with MLflow found; Browse…")

    def _discovery_failed(self, exc: BaseException) -> None:
        _show(self.python_note, "warning", f"Could not look for environments: {exc}")

    # -- browsing ------------------------------------------------------------------------------

    def _start_dir(self) -> str:
        """Where file dialogs open: the store's folder when local, never a share (may hang)."""
        store = self._store
        if (
            store is not None
            and store.path
            and not store.is_unc
            and not store.path.startswith("//")
        ):
            parent = Path(store.path)
            return str(parent if store.kind.value == "folder" else parent.parent)
        return os.path.expanduser("~")

    @Slot()
    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose the mlruns folder", self._start_dir()
        )
        if folder:
            self.store_edit.setText(os.path.normpath(folder))

    @Slot()
    def _browse_sqlite(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose the MLflow database", self._start_dir(),
            "SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)",
        )  # fmt: skip
        if path:
            self.store_edit.setText(os.path.normpath(path))

    @Slot()
    def _browse_python(self) -> None:
        pattern = "Python (python.exe);;All files (*)" if os.name == "nt" else "All files (*)"
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Python interpreter", "", pattern)
        if path:
            path = os.path.normpath(path)
            if self.python_combo.findData(path) < 0:
                self.python_combo.addItem(path, path)
            self.python_combo.setCurrentIndex(self.python_combo.findData(path))

    # -- saving --------------------------------------------------------------------------------

    @Slot()
    def save(self) -> None:
        self._save_tried = True
        if not self.validate():
            for edit, label in (
                (self.name_edit, self.name_note),
                (self.store_edit, self.store_note),
                (self.args_edit, self.args_note),
            ):
                if label.property("level") == "error":
                    edit.setFocus()
                    break
            return
        try:
            project = self.project()
            self.controller.save_project(self.old_name, project)
        except (ProjectError, StoreError, ValueError) as exc:
            _show(self.general_note, "error", str(exc))
            return
        except OSError as exc:
            _show(self.general_note, "error", f"The config could not be saved: {exc}")
            return
        self.accept()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._exists_timer.stop()
        super().closeEvent(event)


def _discover() -> list[Interpreter]:
    from launcher.server.python.interpreters import discover

    return discover()


def _note(lines: int = 1) -> QLabel:
    """A note under a field, holding the height of ``lines`` lines even when empty, so that
    notes coming and going never move the rows below under the user's mouse.

    A one-line note does not wrap (its messages are short, and a wrapping label asks for
    two lines whatever its text); a note of paths and causes wraps in the lines it holds.
    """
    label = QLabel()
    label.setWordWrap(lines > 1)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    _show(label, "info", "\n".join("X" * lines))  # measured as drawn: a style sheet sets the font
    label.setMinimumHeight(label.sizeHint().height())
    _show(label, "", "")
    return label


def _show(label: QLabel, level: str, text: str) -> bool:
    """Say (or, with no text, clear) a note under a field; returns False for an error."""
    label.setText(text)
    label.setProperty("level", level)
    label.setStyleSheet(f"color: {_COLORS.get(level, '#555555')};")
    return level != "error"


def _is_folder(store: str) -> bool:
    try:
        return parse_store(store).kind is StoreKind.FOLDER
    except StoreError:
        return False
