"""A launcher wired for tests: temp config, fake (or real) servers, a recording browser."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtWidgets import QMenu

from launcher.model.config import Config, ConfigStore, Settings
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.manager import ServerFactory, ServerManager
from launcher.ui.controller import Controller
from launcher.ui.tray.menu import populate


@dataclass
class FakeAutostart:
    enabled: bool = False
    calls: list[bool] = field(default_factory=list)

    def is_enabled(self) -> bool:
        return self.enabled

    def set_enabled(self, enabled: bool) -> None:
        self.calls.append(enabled)
        self.enabled = enabled


def write_config(paths: AppPaths, projects: list[Project], **settings: object) -> None:
    ConfigStore(paths).save(Config(projects=projects, settings=Settings(**settings)))  # type: ignore[arg-type]


def make_controller(
    paths: AppPaths, factory: ServerFactory, urls: list[str], autostart: FakeAutostart | None = None
) -> Controller:
    manager = ServerManager(paths, server_factory=factory, opener=urls.append)
    return Controller(paths, ConfigStore(paths), manager, autostart=autostart)


def menu_entries(controller: Controller) -> dict[str, QMenu]:
    """Build the menu as the tray would on opening; project name -> its submenu."""
    menu = QMenu()
    populate(menu, controller)
    entries: dict[str, QMenu] = {}
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu) and action.objectName().startswith("project:"):
            entries[action.objectName().split(":", 1)[1]] = sub
    entries_menu_keepalive.append(menu)
    return entries


entries_menu_keepalive: list[QMenu] = []


def top_actions(controller: Controller) -> list[str]:
    menu = QMenu()
    populate(menu, controller)
    entries_menu_keepalive.append(menu)
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def action(sub: QMenu, prefix: str):  # type: ignore[no-untyped-def]
    for act in sub.actions():
        if act.objectName().startswith(prefix + ":"):
            return act
    raise AssertionError(f"no {prefix} action in {[a.objectName() for a in sub.actions()]}")
