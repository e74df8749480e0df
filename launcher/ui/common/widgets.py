"""Tiny helpers for building widgets."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QHBoxLayout, QWidget

W = TypeVar("W", bound=QObject)


def named(widget: W, name: str) -> W:
    """Give ``widget`` an object name (tests find widgets by it) and return it."""
    widget.setObjectName(name)
    return widget


def beside(field: QWidget, *buttons: QWidget) -> QHBoxLayout:
    """A row: ``field`` taking the width, then ``buttons`` (a path and its Browse…)."""
    row = QHBoxLayout()
    row.addWidget(field, 1)
    for button in buttons:
        row.addWidget(button)
    return row
