"""What the dialogs need from whoever opens them, as narrow protocols.

The controller opens the settings dialog and the project editor; they in turn call back into
it (save a project, read states). Typing those calls against these protocols instead of the
``Controller`` class keeps the imports pointing one way (controller -> dialogs) and lets the
tests hand a dialog a small fake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import SignalInstance

from launcher.model.config import Config
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.state import State
from launcher.ui.project_row import ProjectRow


class Autostart(Protocol):
    """Start at login, as the app layer implements it for this OS."""

    def is_enabled(self) -> bool: ...

    def set_enabled(self, enabled: bool) -> None: ...


class SwitchTo(Protocol):
    """What the "Move to…" dialog calls after a verified move the user wants to switch to:
    point the project at ``database`` (``kept_as``, ``artifacts``, ``workspace``: as
    ``model/switch.py``)."""

    def __call__(
        self,
        project: Project,
        database: str,
        /,
        *,
        kept_as: str = "folder",
        artifacts: str | None = None,
        workspace: str = "",
    ) -> None: ...


class EditorHost(Protocol):
    """What the project editor reads and how it saves."""

    paths: AppPaths

    def find(self, name: str) -> Project | None: ...

    def state(self, name: str) -> State: ...

    def save_project(self, old_name: str, project: Project) -> None: ...

    def move_to(self, name: str) -> None:
        """Open the "Move to…" dialog for a saved folder or SQLite store project."""


class SettingsHost(EditorHost, Protocol):
    """What the settings dialog shows and changes (and hands on to the editors it opens)."""

    config: Config
    autostart: Autostart | None

    @property
    def changed(self) -> SignalInstance: ...

    @property
    def self_updating(self) -> bool:
        """Whether to show "Check for updates" (an installed Windows copy)."""

    def rows(self) -> list[ProjectRow]:
        """Every listed project as the list shows it (project_row.py)."""

    def is_team(self, name: str) -> bool: ...

    def update_config(self, change: Callable[[Config], None]) -> Config: ...

    def remove_project(self, name: str) -> None: ...

    def autostart_enabled(self) -> bool: ...

    def set_autostart(self, enabled: bool) -> None: ...
