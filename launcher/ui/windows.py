"""The tray's secondary windows (log viewers, editors, dialogs): one per kind and project.

A second click on "Edit" or "Show log" raises the window already open instead of stacking a
copy; a closed dialog is made afresh, so it shows the project as it is now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import QWidget

W = TypeVar("W", bound=QWidget)


class Windows:
    """The open windows by key (``"edit:NAME"``, ``"log:NAME"``, ``"settings"``, ...)."""

    def __init__(self) -> None:
        self._open: dict[str, QWidget] = {}

    def __getitem__(self, key: str) -> QWidget:
        return self._open[key]

    def get(self, key: str) -> QWidget | None:
        return self._open.get(key)

    def show(
        self,
        key: str,
        kind: type[W],
        make: Callable[[], W],
        *,
        reuse: Callable[[W], bool] = lambda window: window.isVisible(),
        prepare: Callable[[W], None] | None = None,
    ) -> W:
        """Raise the window under ``key`` if it is a ``kind`` that ``reuse`` accepts, else make
        one; either way it is ``prepare``d, then shown, raised and focused."""
        window = self._open.get(key)
        if not isinstance(window, kind) or not reuse(window):
            window = make()
            self._open[key] = window
        if prepare is not None:
            prepare(window)
        window.show()
        window.raise_()
        window.activateWindow()
        return window
