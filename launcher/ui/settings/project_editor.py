"""The editor for one project: validated as you type, checked by the doctor on request.

Everything that can be decided from the text is checked at once (unknown scheme, relative path,
duplicate name). Whether the store exists is asked in a thread after a short pause in typing,
since a path on an offline share can take many seconds to answer; the Check button runs the
core's doctor the same way. The dialog never freezes.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from launcher.model.extra_args import join_args, split_args
from launcher.model.project import Project, ProjectError, validate
from launcher.model.stores import Store, StoreError, StoreKind, parse_store
from launcher.server.state import State
from launcher.ui.common.icons import app_icon
from launcher.ui.common.notes import held_note, show_note
from launcher.ui.common.widgets import beside, named
from launcher.ui.common.workers import run_in_thread
from launcher.ui.hosts import EditorHost
from launcher.ui.settings.doctor_check import DoctorCheck
from launcher.ui.settings.python_picker import PythonPicker
from launcher.ui.settings.store_browse import store_browse_button

EXISTS_DEBOUNCE_MS = 400
EXISTS_TIMEOUT = 10.0


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
        self.name_note = held_note()
        self.store_edit = named(QLineEdit(self.original.store), "store")
        self.store_edit.setPlaceholderText(
            r"\\server\share\mlruns, C:\path\mlflow.db, sqlite:///..., postgresql://..."
        )
        self.store_note = held_note(lines=2)
        browse = store_browse_button(self.store_edit, self)
        self.prefix_edit = named(QLineEdit(self.original.prefix), "prefix")
        self.prefix_edit.setPlaceholderText("e.g. dra_ (optional)")
        self.python_picker = PythonPicker(self.original.python, self)
        self.python_combo = self.python_picker.combo
        self.python_note = self.python_picker.note
        self.args_edit = named(QLineEdit(join_args(self.original.extra_args)), "args")
        self.args_edit.setPlaceholderText(
            "extra mlflow server options, e.g. --static-prefix /mlflow"
        )
        self.args_note = held_note()
        self.port_spin = named(QSpinBox(), "port")
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText("any free port")
        self.port_spin.setValue(self.original.port)
        self.artifacts_edit = named(QLineEdit(self.original.artifacts), "artifacts")
        self.artifacts_edit.setPlaceholderText(
            "where new experiments' artifacts go, for a database (default: this PC's data folder)"
        )
        self.artifacts_note = held_note(lines=2)
        self.access_check = named(QCheckBox("Protect with an access key"), "access-key")
        self.access_check.setChecked(self.original.access_key)
        self.access_check.setToolTip(
            "Only links from the launcher (and scripts given MLFLOW_TRACKING_TOKEN) get in; "
            "other users and programs of this PC get 403. Turn off for tools pointed at a "
            "fixed port."
        )
        self.access_note = held_note(lines=2)
        self.fast_view_check = named(
            QCheckBox("Fast view: serve a local read-only copy of a folder store"), "fast-view"
        )
        self.fast_view_check.setToolTip(
            "For a share others still log to: the launcher keeps a SQLite copy of it, serves that "
            "(changes are refused) and refreshes it; artifacts stay on the share."
        )
        self.fast_view_check.setChecked(self.original.fast_view)
        self.watch_check = named(
            QCheckBox("Watch runs: tell me when a run ends or stalls"), "watch"
        )
        self.watch_check.setToolTip(WATCH_TIP)
        self.watch_check.setChecked(self.original.watch_runs is not False)
        self.general_note = held_note(lines=2)
        running = bool(self.old_name) and controller.state(self.old_name) is State.RUNNING
        self.running_note = QLabel(
            "This project is running: changes apply the next time it starts (Restart)."
        )
        self.running_note.setVisible(running)

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.name_note)
        form.addRow("Store", beside(self.store_edit, browse))
        form.addRow("", self.store_note)
        form.addRow("Experiment prefix", self.prefix_edit)
        form.addRow("Python environment", self.python_picker)
        form.addRow("", self.python_note)
        form.addRow("Extra arguments", self.args_edit)
        form.addRow("", self.args_note)
        form.addRow("Port", self.port_spin)
        form.addRow("Artifacts location", self.artifacts_edit)
        form.addRow("", self.artifacts_note)
        form.addRow("", self.access_check)
        form.addRow("", self.access_note)
        form.addRow("", self.fast_view_check)
        form.addRow("", self.watch_check)

        self.doctor = DoctorCheck(controller.paths, self)
        self.check_button, self.findings = self.doctor.button, self.doctor.findings
        self.check_button.clicked.connect(self.run_check)
        self.doctor.finished.connect(self.validate)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.move_button = named(QPushButton("Move to…"), "move-to")
        self.move_button.setToolTip(
            "Copy this store into a new SQLite file or a team database (verified; the old store "
            "is kept)."
        )
        self.move_button.clicked.connect(lambda: controller.move_to(self.old_name))
        self.move_button.setVisible(bool(self.old_name) and _is_movable(self.original.store))
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
        self.python_picker.changed.connect(self.validate)
        self.port_spin.valueChanged.connect(self.validate)
        self.access_check.toggled.connect(self.validate)
        self.fast_view_check.toggled.connect(self.validate)
        self.validate()

    # -- the project as typed ------------------------------------------------------------------

    @property
    def save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def python_value(self) -> str:
        """The chosen interpreter's path; '' is the launcher's own."""
        return self.python_picker.value()

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
            watch_runs=_choice(self.original.watch_runs, self.watch_check.isChecked()),
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
            show_note(label, "", "")
            return False
        self._error_shown |= level == "error"
        return show_note(label, level, text)

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
            show_note(self.name_note, "", "")
        ok = self._validate_store() and ok
        try:
            split_args(self.args_edit.text())
            show_note(self.args_note, "", "")
        except ValueError as exc:
            ok = self._note(self.args_edit, self.args_note, "error", str(exc))
        if ok:
            try:
                validate(self.project())
                show_note(self.general_note, "", "")
            except (ProjectError, StoreError, ValueError) as exc:
                ok = show_note(self.general_note, "error", str(exc))
                self._error_shown = True
        else:
            show_note(self.general_note, "", "")
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
            show_note(self.artifacts_note, "" if fine else "warning", "" if fine else where)
        remote = self._store is not None and self._store.kind is StoreKind.REMOTE
        protected, text = access_key.protection(
            project, remote=remote, lean=None if lean_args else False
        )
        show_note(self.access_note, "" if protected else "warning", "" if protected else text)

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
            show_note(self.store_note, note[0], f"{store.kind.label}: {note[1]}")
        elif store.path:
            show_note(self.store_note, "info", f"{store.kind.label}: checking that it exists…")
        else:
            show_note(self.store_note, "ok", f"{store.kind.label}: {store.display}")
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
            self.doctor.say(f"✖ {exc}")
            return
        self.doctor.run(project)

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
            show_note(self.general_note, "error", str(exc))
            return
        except OSError as exc:
            show_note(self.general_note, "error", f"The config could not be saved: {exc}")
            return
        self.accept()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._exists_timer.stop()
        super().closeEvent(event)


def _is_movable(store: str) -> bool:
    """A folder or SQLite store: what "Move to…" moves."""
    try:
        return parse_store(store).kind in (StoreKind.FOLDER, StoreKind.SQLITE)
    except StoreError:
        return False


WATCH_TIP = (
    "On by default for new projects and those opened in the last 14 days; the store is only "
    "read, every interval (Settings > General)."
)


def _choice(before: bool | None, checked: bool) -> bool | None:
    """A project left to the default (None) stays so unless the box was turned off."""
    return None if before is None and checked else checked
