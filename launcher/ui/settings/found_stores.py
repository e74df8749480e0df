"""The stores a scan found, as rows of the "Add from folder…" dialog, and the names chosen.

Kept apart from the dialog (which runs the scan and adds the projects) so that what a row says
and which names are refused can be read, and tested, in one place.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItem

from launcher.model.project import Project, ProjectError, validate
from launcher.server.stores.discovery import Discovery, Found

COL_NAME, COL_KIND, COL_EXPERIMENTS, COL_STORE, COL_NOTE = range(5)
FOUND = Qt.ItemDataRole.UserRole
"""Where a row keeps its :class:`Found`."""


def found_row(found: Found) -> QTreeWidgetItem:
    """A row for a store found: checked and named when new, greyed when already known."""
    count = "?" if found.experiments is None else str(found.experiments)
    item = QTreeWidgetItem(["", found.kind.value, count, found.path, ""])
    item.setData(COL_NAME, FOUND, found)
    item.setToolTip(COL_STORE, found.path)
    item.setTextAlignment(COL_EXPERIMENTS, Qt.AlignmentFlag.AlignRight)
    if found.known_as is not None:
        mark_known(item, found.known_as, "already in the launcher")
    else:
        item.setText(COL_NAME, found.name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(COL_NAME, Qt.CheckState.Checked)
    return item


def mark_known(item: QTreeWidgetItem, name: str, why: str) -> None:
    """Grey a row out: the store is a project already (``why``), named ``name``."""
    item.setText(COL_NAME, name)
    item.setText(COL_NOTE, why)
    item.setData(COL_NAME, Qt.ItemDataRole.CheckStateRole, None)
    flags = item.flags() & ~(
        Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
    )
    item.setFlags(flags)
    item.setToolTip(COL_NAME, f"{why} as “{name}”")


def summary(result: Discovery) -> tuple[str, str]:
    """The note under the list after a scan: (level, text)."""
    stores = len(result.found)
    new = sum(1 for f in result.found if f.known_as is None)
    parts = [
        f"{result.scanned} folder{'s' if result.scanned != 1 else ''} searched, "
        f"{stores} store{'s' if stores != 1 else ''} found"
        + (f" ({stores - new} already in the launcher)" if stores != new else "")
    ]
    if result.unreadable:
        parts.append(f"{result.unreadable} unreadable skipped")
    if result.depth_limited:
        parts.append("deeper folders were not searched (raise the depth to look further)")
    level = "info"
    if result.cancelled:
        parts.insert(0, "Cancelled: showing what was found so far")
        level = "warning"
    return level, "; ".join(parts) + "."


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``… if it is taken (``taken`` is casefolded)."""
    candidate, n = name, 2
    while candidate.casefold() in taken:
        candidate = f"{name} ({n})"
        n += 1
    return candidate


def name_problem(text: str, taken: set[str], seen: dict[str, int]) -> str:
    """Why a chosen name cannot be added ("" when it can): empty, taken, chosen twice, invalid."""
    name = text.strip()
    if not name:
        return "A project needs a name."
    if name.casefold() in taken:
        return f"There is already a project named “{name}”: pick another name."
    if seen.get(name.casefold(), 0) > 1:
        return f"“{name}” is chosen for two stores: give each its own name."
    try:
        validate(Project(name=name, store="/"), check_store=False)
    except ProjectError as exc:
        return str(exc)
    return ""
