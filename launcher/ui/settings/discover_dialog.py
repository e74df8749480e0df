"""The "Add from folder…" dialog: find the MLflow stores under a folder or share, add them.

Scan walks the root in a worker thread (:func:`launcher.server.stores.discovery.discover`: bounded
depth, cancellable, read-only) and shows its progress live: folders searched, stores found, the
folder being looked at. A slow share never freezes the dialog, Cancel stops the walk at the next
folder (what was found so far is kept), and closing the dialog cancels too.

The stores found are listed with a proposed project name (editable), their kind and experiment
count; those already in the launcher are greyed. Add selected writes the checked ones through the
config's locked update, so a project the CLI added meanwhile is never lost: a name that is
taken by then gets `` (2)`` and the dialog says so.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher.model.config import Config
from launcher.model.project import Project
from launcher.server.signals import emit
from launcher.server.stores.discovery import DEFAULT_DEPTH, Discovery, Progress
from launcher.ui.common.icons import app_icon
from launcher.ui.common.notes import COLORS, note, show_note
from launcher.ui.common.widgets import named
from launcher.ui.common.workers import run_with_progress
from launcher.ui.settings.found_stores import (
    COL_EXPERIMENTS,
    COL_KIND,
    COL_NAME,
    COL_NOTE,
    COL_STORE,
    FOUND,
    found_row,
    mark_known,
    name_problem,
    summary,
    unique_name,
)

log = logging.getLogger(__name__)

MAX_DEPTH = 30

Discover = Callable[..., Discovery]
"""``discover(root, max_depth, cancel_event, progress_cb, existing=projects)``."""
UpdateConfig = Callable[[Callable[[Config], None]], Any]
"""Change the config under its lock (``ConfigStore.update`` or the controller's)."""


def _default_discover(*args: Any, **kwargs: Any) -> Discovery:
    from launcher.server.stores import discovery

    return discovery.discover(*args, **kwargs)


class DiscoverDialog(QDialog):
    added = Signal(list)
    """Names of the projects just added."""

    def __init__(
        self,
        update_config: UpdateConfig,
        existing: Callable[[], list[Project]],
        *,
        discover: Discover | None = None,
        root: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._update_config = update_config
        self._existing = existing
        self._discover: Discover = discover or _default_discover
        self._scan = 0
        """The current scan's number: results of an older (cancelled) scan are dropped."""
        self._cancel: threading.Event | None = None
        self.discovery: Discovery | None = None
        self.scanning = False
        self._names_ok = True
        self.setWindowTitle("Add projects from a folder")
        self.setWindowIcon(app_icon())
        self.resize(820, 480)

        self.root_edit = named(QLineEdit(root), "root")
        self.root_edit.setPlaceholderText(r"a folder or share, e.g. \\server\share\ai\mlflow")
        self.root_edit.returnPressed.connect(self.scan)
        self.root_edit.textChanged.connect(self._update_buttons)
        browse = named(QPushButton("Browse…"), "browse")
        browse.clicked.connect(self.browse)
        self.depth_spin = named(QSpinBox(), "depth")
        self.depth_spin.setRange(0, MAX_DEPTH)
        self.depth_spin.setValue(DEFAULT_DEPTH)
        self.depth_spin.setToolTip("How many folder levels below the root to search.")
        self.scan_button = named(QPushButton("Scan"), "scan")
        self.scan_button.clicked.connect(self.scan)
        self.cancel_button = named(QPushButton("Cancel scan"), "cancel")
        self.cancel_button.clicked.connect(self.cancel)
        root_row = QHBoxLayout()
        root_row.addWidget(QLabel("Root"))
        root_row.addWidget(self.root_edit, 1)
        root_row.addWidget(browse)
        root_row.addWidget(QLabel("Depth"))
        root_row.addWidget(self.depth_spin)
        root_row.addWidget(self.scan_button)
        root_row.addWidget(self.cancel_button)

        self.busy = named(QProgressBar(), "busy")
        self.busy.setRange(0, 0)  # no total is known: a moving bar
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(10)
        self.busy.setVisible(False)
        self.progress_label = named(QLabel(), "progress")
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.root_note = note("root-note")

        self.table = named(QTreeWidget(), "found")
        self.table.setHeaderLabels(["Project name", "Kind", "Experiments", "Store", ""])
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        header = self.table.header()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_STORE, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._item_changed)
        self.names_note = note("names-note")
        self.summary_note = note("summary")

        self.add_button = named(QPushButton("Add selected"), "add-selected")
        self.add_button.clicked.connect(self.add_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(root_row)
        layout.addWidget(self.root_note)
        layout.addWidget(self.busy)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.names_note)
        layout.addWidget(self.summary_note)
        layout.addWidget(buttons)
        self._update_buttons()

    # -- scanning ------------------------------------------------------------------------------

    @Slot()
    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Folder to search for MLflow stores", self.root_edit.text().strip()
        )
        if folder:
            self.root_edit.setText(os.path.normpath(folder))

    @Slot()
    def scan(self) -> None:
        """Start a scan of the root in a worker thread (a running one is cancelled first)."""
        root = self.root_edit.text().strip()
        if not root:
            show_note(self.root_note, "error", "Type or browse to the folder to search.")
            return
        if self.scanning:
            self.cancel()
        show_note(self.root_note, "", "")
        show_note(self.summary_note, "", "")
        self._scan += 1
        number = self._scan
        cancel = threading.Event()
        self._cancel = cancel
        existing = self._existing()
        depth = self.depth_spin.value()
        discover = self._discover
        run_with_progress(
            lambda report: discover(root, depth, cancel, report, existing=existing),
            lambda progress: self._progress(number, progress),
            lambda result: self._finished(number, result, None),
            lambda exc: self._finished(number, None, exc),
            owner=self,
            name="discover",
        )
        self.scanning = True
        self.table.clear()
        self.discovery = None
        self.progress_label.setText(f"Searching {root}…")
        self.busy.setVisible(True)
        self._update_buttons()

    @Slot()
    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
        if self.scanning:
            self.progress_label.setText(self.progress_label.text() + "  — cancelling…")
            self.cancel_button.setEnabled(False)

    def _progress(self, number: int, progress: Progress) -> None:
        if number != self._scan or not self.scanning:
            return
        current = self.progress_label.fontMetrics().elidedText(
            progress.current, Qt.TextElideMode.ElideMiddle, max(200, self.width() - 320)
        )
        self.progress_label.setText(
            f"{progress.scanned} folders searched, {progress.found} "
            f"store{'s' if progress.found != 1 else ''} found — {current}"
        )

    def _finished(self, number: int, result: Discovery | None, exc: BaseException | None) -> None:
        if number != self._scan:
            return
        self.scanning = False
        self.busy.setVisible(False)
        self._cancel = None
        if exc is not None or result is None:
            self.progress_label.setText("")
            show_note(self.root_note, "error", f"Could not search: {exc}")
            self._update_buttons()
            return
        self.discovery = result
        self._show(result)
        self._update_buttons()

    def _show(self, result: Discovery) -> None:
        self.table.blockSignals(True)
        self.table.clear()
        for found in result.found:
            self.table.addTopLevelItem(found_row(found))
        self.table.blockSignals(False)
        for column in (COL_KIND, COL_EXPERIMENTS, COL_NOTE):
            self.table.resizeColumnToContents(column)
        level, text = summary(result)
        self.progress_label.setText("")
        show_note(self.summary_note, level, text)
        self._validate()

    # -- choosing ------------------------------------------------------------------------------

    def rows(self) -> list[QTreeWidgetItem]:
        return [
            item
            for i in range(self.table.topLevelItemCount())
            if (item := self.table.topLevelItem(i)) is not None
        ]

    def checked(self) -> list[QTreeWidgetItem]:
        return [
            item
            for item in self.rows()
            if item.flags() & Qt.ItemFlag.ItemIsEnabled
            and item.checkState(COL_NAME) == Qt.CheckState.Checked
        ]

    @Slot(QTreeWidgetItem, int)
    def _item_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if column == COL_NAME:
            self._validate()

    def _validate(self) -> bool:
        """Check the chosen names (empty, taken, twice); mark bad rows and say why."""
        taken = {p.name.casefold() for p in self._existing()}
        chosen = self.checked()
        seen: dict[str, int] = {}
        for item in chosen:
            key = item.text(COL_NAME).strip().casefold()
            seen[key] = seen.get(key, 0) + 1
        problems: list[str] = []
        self.table.blockSignals(True)
        for item in self.rows():
            problem = ""
            if item in chosen:
                problem = name_problem(item.text(COL_NAME), taken, seen)
            enabled = bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
            if enabled:
                color = QBrush(QColor(COLORS["error"])) if problem else QBrush()
                item.setForeground(COL_NAME, color)
                item.setToolTip(COL_NAME, problem)
                item.setText(COL_NOTE, problem and "rename it")
            if problem:
                problems.append(problem)
        self.table.blockSignals(False)
        show_note(self.names_note, "error", problems[0] if problems else "")
        self._names_ok = not problems
        self._update_buttons()
        return self._names_ok

    @Slot()
    def add_selected(self) -> None:
        """Add the checked stores as projects (one locked config update)."""
        if self.scanning or not self._validate():
            return
        chosen = [
            (item.text(COL_NAME).strip(), item.data(COL_NAME, FOUND), item)
            for item in self.checked()
        ]
        if not chosen:
            return
        team = {p.name.casefold() for p in self._existing()}
        added: list[tuple[str, str, QTreeWidgetItem]] = []

        def change(config: Config) -> None:
            added.clear()  # the update may be retried: start over each time
            taken = team | {p.name.casefold() for p in config.projects}
            for wanted, found, item in chosen:
                name = unique_name(wanted, taken)
                config.add(Project(name=name, store=found.path))
                taken.add(name.casefold())
                added.append((wanted, name, item))

        try:
            self._update_config(change)
        except Exception as exc:  # a lock timeout, a full disk, an odd store
            log.warning("adding discovered projects failed: %s", exc)
            show_note(self.names_note, "error", f"Nothing was added: {exc}")
            return
        self.table.blockSignals(True)
        for _wanted, name, item in added:
            mark_known(item, name, "added")
        self.table.blockSignals(False)
        names = [name for _w, name, _i in added]
        text = f"Added {len(names)} project{'s' if len(names) != 1 else ''}: {', '.join(names)}."
        renamed = [f"“{w}” as “{n}”" for w, n, _i in added if w != n]
        if renamed:
            text += (
                f" A project with the same name appeared meanwhile, so added {', '.join(renamed)}."
            )
        show_note(self.summary_note, "warning" if renamed else "ok", text)
        self._validate()
        emit(self.added, names)

    # -- state ---------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        self.scan_button.setEnabled(bool(self.root_edit.text().strip()))
        self.scan_button.setText("Scan again" if self.scanning else "Scan")
        self.cancel_button.setEnabled(self.scanning)
        self.depth_spin.setEnabled(not self.scanning)
        self.add_button.setEnabled(not self.scanning and self._names_ok and bool(self.checked()))

    def done(self, result: int) -> None:
        if self._cancel is not None:
            self._cancel.set()  # closing stops the walk; its result is dropped
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._cancel is not None:
            self._cancel.set()
        super().closeEvent(event)
