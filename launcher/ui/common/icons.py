"""Finding the launcher's icons wherever it runs: frozen, installed, or from a source checkout."""

from __future__ import annotations

import importlib.util
import sys
from enum import Enum
from functools import cache
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

import launcher

STATES = ("idle", "starting", "running", "failed")
_FOR_STATE = {"stopped": "idle", "starting": "starting", "running": "running", "failed": "failed"}
"""Server state (its value) -> icon. By value, so showing the first icon imports no server code."""


@cache
def assets_dir() -> Path:
    """The folder holding the icons.

    Frozen (PyInstaller): ``sys._MEIPASS/assets``. Installed: the ``launcher.assets`` package
    (found by spec, which works for editable installs too and imports nothing). Source checkout:
    ``<repo>/assets``.
    """
    meipass = getattr(sys, "_MEIPASS", None)
    if launcher.frozen() and meipass:
        return Path(meipass) / "assets"
    try:
        spec = importlib.util.find_spec("launcher.assets")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "assets"


def asset(name: str) -> Path:
    return assets_dir() / name


@cache
def _icon(stem: str) -> QIcon:
    icon = QIcon()
    base = asset(f"{stem}.png")
    icon.addFile(str(base), QSize(32, 32))
    double = asset(f"{stem}@2x.png")
    if double.exists():
        icon.addFile(str(double), QSize(64, 64))
    return icon


def state_icon(state: str) -> QIcon:
    """The tray icon for an aggregate state: 'idle', 'starting', 'running' or 'failed'."""
    return _icon(f"tray-{state if state in STATES else 'idle'}")


def project_icon(state: Enum) -> QIcon:
    """A project's icon in menus and lists: the tray icon of its own state."""
    return state_icon(_FOR_STATE.get(str(state.value), "idle"))


def app_icon() -> QIcon:
    icon = QIcon()
    for name, size in (("launcher-64.png", 64), ("launcher.png", 256)):
        path = asset(name)
        if path.exists():
            icon.addFile(str(path), QSize(size, size))
    return icon
