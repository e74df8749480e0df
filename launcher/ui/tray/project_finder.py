"""Find project…: a small popup with type-ahead over name, store and prefix; Enter opens.

With 200 projects, typing four letters beats walking submenus. The popup receives the rows
(project_row.py) and what to do on Enter; it knows nothing of the tray.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from launcher.ui.project_row import ProjectRow

SHORTCUT = "Ctrl+K"


def matches(row: ProjectRow, words: list[str]) -> bool:
    """Whether every word is in the row's name, store or prefix (case-insensitive)."""
    hay = f"{row.name}\n{row.store}\n{row.project.prefix}".casefold()
    return all(word in hay for word in words)


def rank(rows: Sequence[ProjectRow], text: str) -> list[ProjectRow]:
    """Rows matching every word of ``text``; names that start with it first, then by name."""
    words = text.casefold().split()
    hits = [r for r in rows if matches(r, words)]
    first = words[0] if words else ""
    return sorted(hits, key=lambda r: (not r.name.casefold().startswith(first), r.name.casefold()))


class ProjectFinder(QDialog):
    def __init__(
        self,
        rows: Sequence[ProjectRow],
        on_open: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find project")
        self.setObjectName("project-finder")
        self.rows = list(rows)
        self.on_open = on_open
        self.query = QLineEdit(self)
        self.query.setObjectName("finder-query")
        self.query.setPlaceholderText("Type a name, store or prefix; Enter opens")
        self.query.setClearButtonEnabled(True)
        self.results = QListWidget(self)
        self.results.setObjectName("finder-results")
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.results)
        self.resize(520, 360)
        self.query.textChanged.connect(self._refill)
        self.query.returnPressed.connect(self.open_current)
        self.results.itemActivated.connect(lambda _item: self.open_current())
        self._refill("")

    def _refill(self, text: str) -> None:
        self.results.clear()
        for row in rank(self.rows, text):
            prefix = row.project.prefix
            shown = f"{row.name}    {row.store}" + (f"    [{prefix}]" if prefix else "")
            if row.status:
                shown += f"    — {row.status}"
            item = QListWidgetItem(shown)
            item.setData(Qt.ItemDataRole.UserRole, row.name)
            item.setToolTip(row.store)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def shown_names(self) -> list[str]:
        return [
            str(self.results.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.results.count())
        ]

    def open_current(self) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        self.accept()
        self.on_open(str(item.data(Qt.ItemDataRole.UserRole)))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Up and Down move in the list while the cursor stays in the query."""
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
            self.results.setCurrentRow(row)
            return
        super().keyPressEvent(event)
