"""MLflow Launcher: every project's MLflow UI one click away.

Layers (checked by import-linter, see pyproject.toml), each importing only the ones below it:
``launcher.model`` (pure data and config) -> ``launcher.server`` (MLflow processes, QtCore at most)
-> ``launcher.ui`` (Qt widgets) -> ``launcher.app`` (composition root: CLI and tray start-up).
"""

__version__ = "0.1.0"
