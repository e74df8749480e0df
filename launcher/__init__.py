"""MLflow Launcher: every project's MLflow UI one click away.

Layers (checked by import-linter, see pyproject.toml), each importing only the ones below it:
``launcher.model`` (pure data and config) -> ``launcher.server`` (MLflow processes, QtCore at most)
-> ``launcher.ui`` (Qt widgets) -> ``launcher.app`` (composition root: CLI and tray start-up).
"""

__version__ = "0.1.0"


def frozen() -> bool:
    """Whether this copy is the frozen bundle (PyInstaller; ``sys.executable`` is the launcher's
    exe) rather than a Python install: one answer for the entry point, icons, autostart, updates
    and which Python serves a project. A function, so tests can set ``sys.frozen``. The server
    process's own modules (``server/child/``) ask ``sys`` themselves: they import nothing from
    the launcher."""
    import sys

    return bool(getattr(sys, "frozen", False))
