"""The launcher's menu, rebuilt from live state each time it opens (shared by tray and window).

Each project is a submenu (Open, Stop, Restart, Copy URL, Copy tracking snippet, Show log, Edit)
whose own entry is also clickable: one click on the project opens it, hovering shows the rest.
What an entry shows and which of its actions apply come from the project's row (project_row.py).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QMenu, QWidget

from launcher.model.catalog import Listed
from launcher.model.menu_layout import FLAT_LIMIT
from launcher.ui.common.icons import project_icon
from launcher.ui.controller import Controller
from launcher.ui.tray.active_runs_menu import add_active_runs
from launcher.ui.tray.menu_groups import add_grouped


class ClickableSubmenus(QMenu):
    """A QMenu whose submenu entries can be clicked too (Qt ignores a click on them).

    The click triggers the submenu's own action, which the tray connects to "open project", and
    closes the whole menu as a normal action would.
    """

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = self.actionAt(event.position().toPoint())
        if (
            event.button() == Qt.MouseButton.LeftButton
            and action is not None
            and action.menu() is not None
            and action.isEnabled()
        ):
            self._close_all()
            action.trigger()
            return
        super().mouseReleaseEvent(event)

    def _close_all(self) -> None:
        menu: QWidget | None = self
        while isinstance(menu, QMenu):
            menu.hide()
            parent = menu.parentWidget()
            menu = parent if isinstance(parent, QMenu) else None


def populate(menu: QMenu, controller: Controller) -> None:
    """Fill ``menu`` from the config and the servers as they are right now."""
    for old in menu.findChildren(QMenu, options=Qt.FindChildOption.FindDirectChildrenOnly):
        old.deleteLater()  # clear() keeps submenus alive as children: drop last time's
    menu.clear()
    config = controller.reload()
    listed = controller.listed()
    if not listed:
        empty = menu.addAction("No projects yet: add one in Settings…")
        empty.triggered.connect(controller.show_settings)
    if len(listed) > FLAT_LIMIT:
        add_grouped(menu, controller, listed, _add_project)  # one column, one screen high
    else:
        for entry in listed:
            _add_project(menu, controller, entry)
    if config.catalogs:
        _add_team_status(menu, controller)
    menu.addSeparator()
    add_active_runs(menu, controller.active_runs(), controller.open_run)
    offer = controller.update_offer
    if offer is not None:
        update = menu.addAction(f"Update to {offer.version}")
        update.setObjectName("update")
        update.setEnabled(not offer.installing)
        update.triggered.connect(controller.install_update)
    stop_all = menu.addAction("Stop all")
    stop_all.setEnabled(controller.anything_active())
    stop_all.triggered.connect(controller.stop_all)
    menu.addAction("Settings…").triggered.connect(controller.show_settings)
    login = menu.addAction("Start at login")
    login.setCheckable(True)
    login.setChecked(controller.autostart_enabled())
    login.setEnabled(controller.autostart is not None)
    login.toggled.connect(controller.set_autostart)
    menu.addAction("About MLflow Launcher").triggered.connect(controller.about)
    menu.addSeparator()
    menu.addAction("Quit").triggered.connect(controller.quit)


def _add_team_status(menu: QMenu, controller: Controller) -> None:
    """Team catalogs: say when one could not be read, and offer a fresh read."""
    refreshing, problems = controller.team_status()
    for status in problems:
        if status.fetched_at is None and refreshing:
            continue  # never read yet, and the first read is under way
        text = "Team catalog could not be read"
        if status.fetched_at is not None:
            text += ": showing its last known copy"
        note = menu.addAction(text)
        note.setObjectName("team-problem")
        note.setEnabled(False)
        note.setToolTip(status.describe())
    refresh = menu.addAction("Reading team projects…" if refreshing else "Refresh team projects")
    refresh.setObjectName("refresh-team")
    refresh.setEnabled(not refreshing)
    refresh.triggered.connect(controller.refresh_team)


def _add_project(menu: QMenu, controller: Controller, listed: Listed) -> None:
    """A project's entry, as it is right now (a long menu's groups add theirs when shown)."""
    row = controller.row(listed)
    name = row.name
    sub = ClickableSubmenus(f"{row.label}  —  {row.status}", menu)
    sub.setIcon(project_icon(row.state))
    sub.setToolTipsVisible(True)
    entry = sub.menuAction()
    entry.setObjectName(f"project:{name}")
    entry.setToolTip(row.hint)
    entry.triggered.connect(lambda _=False, n=name: controller.open_project(n))

    def add(text: str, slot: object, enabled: bool = True) -> QAction:
        action = sub.addAction(text)
        action.setObjectName(f"{text.rstrip('…').lower().replace(' ', '-')}:{name}")
        action.setEnabled(enabled)
        action.triggered.connect(slot)
        return action

    opener = add("Open in browser", lambda: controller.open_project(name))
    font = opener.font()
    font.setBold(True)
    opener.setFont(font)
    if row.has_experiments and row.link:
        from launcher.ui.tray.experiments_menu import ExperimentsMenu  # loads in the background

        experiments = ExperimentsMenu(
            row.project, row.link, lambda link: controller.open_link(name, link), parent=sub
        )
        sub.addMenu(experiments)
    add("Stop", lambda: controller.stop(name), row.active)
    add("Restart", lambda: controller.restart(name), True)
    sub.addSeparator()
    add("Copy URL", lambda: controller.copy_url(name), row.can_copy_url)
    add("Copy tracking snippet", lambda: controller.copy_snippet(name))
    add("New experiment name…", lambda: controller.new_experiment_name(name))
    add("Show log", lambda: controller.show_log(name))
    edit = add("Edit…", lambda: controller.edit_project(name), row.can_edit)
    if not row.can_edit:
        edit.setToolTip("A team project is read-only: duplicate it in Settings to change it.")
    if row.unprotected:  # a running server anyone on this PC can use says so (access_key.py)
        sub.addSeparator()
        note = sub.addAction("Not protected: anyone on this PC can open it")
        note.setObjectName(f"unprotected:{name}")
        note.setToolTip(row.unprotected)
        note.setEnabled(False)
    if row.movable:  # folder and SQLite stores: "Move to…"; for fast views: its age, a refresh
        if row.fast_view:
            age = sub.addAction(row.fast_view)
            age.setObjectName(f"fast-view-age:{name}")
            age.setEnabled(False)
            add("Refresh fast view", lambda: controller.refresh_fast_view(row.project))
        add("Move to…", lambda: controller.move_to(name), row.can_move)
    if row.failure is not None:
        sub.addSeparator()
        why = sub.addAction(f"Why: {row.failure.cause.label}")
        why.setToolTip(row.failure.message)
        why.setObjectName(f"why:{name}")
        why.triggered.connect(lambda: controller.show_log(name))
    menu.addMenu(sub)
