"""What this running copy of the launcher is: a frozen bundle (PyInstaller) or a Python install.

One question asked in several places (the entry point, icons, autostart, updates, which Python
serves a project), so it has one answer here. A function, not a constant: tests simulate a
frozen app by setting ``sys.frozen``. The server process's own modules (``server/child/``) ask
``sys`` themselves: they import nothing from the launcher.
"""

from __future__ import annotations

import sys


def frozen() -> bool:
    """True inside the PyInstaller bundle (``sys.executable`` is the launcher's exe)."""
    return bool(getattr(sys, "frozen", False))
