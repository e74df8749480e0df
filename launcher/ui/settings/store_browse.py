"""The store field's Browse button: a folder store or a SQLite file, picked in a file dialog.

The dialog opens where the store typed so far lives when that is local, and never on a share:
a file dialog on an offline share hangs the whole UI (Qt asks the OS synchronously).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QLineEdit, QMenu, QToolButton, QWidget

from launcher.model.stores import StoreError, StoreKind, parse_store
from launcher.ui.common.widgets import named


def store_browse_button(edit: QLineEdit, parent: QWidget) -> QToolButton:
    """A "Browse" menu button that writes the chosen folder or file into ``edit``."""
    button = named(QToolButton(parent), "browse-store")
    button.setText("Browse")
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(button)
    menu.addAction("Folder (mlruns)…").triggered.connect(lambda: _browse_folder(edit, parent))
    menu.addAction("SQLite file…").triggered.connect(lambda: _browse_sqlite(edit, parent))
    button.setMenu(menu)
    return button


def start_dir(text: str) -> str:
    """Where file dialogs open: the store's folder when local, never a share (may hang)."""
    try:
        store = parse_store(text.strip())
    except StoreError:
        store = None
    if store is not None and store.path and not store.is_unc and not store.path.startswith("//"):
        parent = Path(store.path)
        return str(parent if store.kind is StoreKind.FOLDER else parent.parent)
    return os.path.expanduser("~")


def _browse_folder(edit: QLineEdit, parent: QWidget) -> None:
    folder = QFileDialog.getExistingDirectory(
        parent, "Choose the mlruns folder", start_dir(edit.text())
    )
    if folder:
        edit.setText(os.path.normpath(folder))


def _browse_sqlite(edit: QLineEdit, parent: QWidget) -> None:
    path, _ = QFileDialog.getOpenFileName(
        parent, "Choose the MLflow database", start_dir(edit.text()),
        "SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)",
    )  # fmt: skip
    if path:
        edit.setText(os.path.normpath(path))
