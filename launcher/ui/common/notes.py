"""Inline notes under a field (error, warning, ok, info), as the project editor shows them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

COLORS = {"error": "#c62828", "warning": "#b26a00", "ok": "#2e7d32", "info": "#555555"}


def note(name: str = "") -> QLabel:
    """A hidden, word-wrapped, selectable label; ``name`` becomes its object name."""
    label = QLabel()
    if name:
        label.setObjectName(name)
    label.setWordWrap(True)
    label.setVisible(False)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def held_note(lines: int = 1) -> QLabel:
    """A note that holds the height of ``lines`` lines even when empty, so that notes coming
    and going never move the rows below under the user's mouse (the project editor's form).

    A one-line note does not wrap (its messages are short, and a wrapping label asks for
    two lines whatever its text); a note of paths and causes wraps in the lines it holds.
    """
    label = QLabel()
    label.setProperty("held", True)
    label.setWordWrap(lines > 1)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    show_note(label, "info", "\n".join("X" * lines))  # measured as drawn: a style sets the font
    label.setMinimumHeight(label.sizeHint().height())
    show_note(label, "", "")
    return label


def show_note(label: QLabel, level: str, text: str) -> bool:
    """Show (or, with no text, hide or empty a held note) a note; its level is kept in the
    "level" property.

    Returns False for an error.
    """
    if not label.property("held"):  # a held note stays, empty (and never becomes a window)
        label.setVisible(bool(text))
    label.setText(text)
    label.setProperty("level", level if text else "")
    label.setStyleSheet(f"color: {COLORS.get(level, COLORS['info'])};")
    return level != "error"


def level_and_text(label: QLabel) -> tuple[str, str]:
    """What a note says right now, ("", "") when hidden: for tests and the views."""
    if label.isHidden() or not label.text():
        return ("", "")
    return (str(label.property("level") or ""), label.text())
