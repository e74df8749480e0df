"""The tray menu with many projects: running, recent, "All projects" in groups, Find project….

Renders :func:`launcher.model.menu_layout.layout`. Group submenus fill when they are first
shown, so a 200-project menu builds a dozen entries when it opens, not two thousand.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu

from launcher.model.catalog import Listed
from launcher.model.menu_layout import Group, layout
from launcher.ui.controller import Controller
from launcher.ui.tray.project_finder import SHORTCUT, ProjectFinder

AddProject = Callable[[QMenu, Controller, Listed], None]
_finders: list[ProjectFinder] = []
"""The open finder, kept alive while it shows."""


def add_grouped(
    menu: QMenu, controller: Controller, listed: list[Listed], add_project: AddProject
) -> None:
    """Fill the project part of ``menu`` for a long ``listed``."""
    active = controller.live_names()
    plan = layout(listed, active, controller.config.settings.recent)
    for entry in plan.running:
        add_project(menu, controller, entry)
    if plan.recent:
        if plan.running:
            menu.addSeparator()
        heading = menu.addAction("Recent")
        heading.setObjectName("recent-heading")
        heading.setEnabled(False)
        for entry in plan.recent:
            add_project(menu, controller, entry)
    menu.addSeparator()
    everything = QMenu(f"All projects ({len(listed)})", menu)
    everything.menuAction().setObjectName("all-projects")
    for group in plan.groups:
        _add_group(everything, controller, group, add_project)
    menu.addMenu(everything)
    find = menu.addAction("Find project…")
    find.setObjectName("find-project")
    find.setShortcut(SHORTCUT)
    find.triggered.connect(lambda: show_finder(controller))


def _add_group(
    parent: QMenu, controller: Controller, group: Group, add_project: AddProject
) -> QMenu:
    sub = QMenu(f"{group.title}  ({group.count()})", parent)
    sub.menuAction().setObjectName(f"group:{group.title}")
    sub.setToolTipsVisible(True)

    def fill() -> None:
        if sub.actions():
            return
        for child in group.children:
            _add_group(sub, controller, child, add_project)
        for entry in group.entries:
            add_project(sub, controller, entry)

    sub.aboutToShow.connect(fill)
    parent.addMenu(sub)
    return sub


def show_finder(controller: Controller) -> ProjectFinder:
    """Open (or raise) the Find project popup."""
    for old in _finders:
        old.close()
    _finders.clear()
    finder = ProjectFinder(controller.rows(), controller.open_project)
    finder.finished.connect(lambda _code: _finders.remove(finder) if finder in _finders else None)
    _finders.append(finder)
    finder.show()
    finder.raise_()
    finder.activateWindow()
    return finder
