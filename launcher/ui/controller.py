"""What the tray's clicks mean: the one place between the views and the core.

The tray icon, its fallback window and the settings dialog only show state and forward clicks
here; this object reads and writes the config and drives the :class:`ServerManager`. The views
read a project through its row (:meth:`Controller.rows`, ``project_row``), and what belongs to
no project (the update offer, Stop all, the icon's state) through the methods below it; they
never reach into the manager, the update checker or the fast views. Its helpers each hold one
job: ``server_notices`` (what is worth a notification), ``status_text`` (a state in words) and
``windows`` (the secondary windows, whose modules are imported lazily, so the tray shows before
the settings dialog's code is even loaded).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication

from launcher.model.catalog import CatalogStatus, Listed
from launcher.model.config import Config, ConfigStore
from launcher.model.menu_layout import remember
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.runs.events import RunInfo
from launcher.model.runs.watched import opened_now, stale
from launcher.model.stores import StoreError
from launcher.server.manager import ServerManager
from launcher.server.signals import emit
from launcher.server.state import State
from launcher.server.store_watch import StoreWatch
from launcher.ui.common.password_dialog import ask_if_missing
from launcher.ui.fast_view import FastViews
from launcher.ui.hosts import Autostart
from launcher.ui.project_row import LIVE, ProjectRow, build_row
from launcher.ui.run_watch import RunWatch
from launcher.ui.server_notices import ServerNotices
from launcher.ui.status_text import tooltip
from launcher.ui.team import TeamProjects
from launcher.ui.updates import UpdateOffer, Updates
from launcher.ui.windows import Windows

log = logging.getLogger(__name__)


class Controller(QObject):
    notify = Signal(str, str, str, str)
    """(title, text, level 'info'|'warning'|'error', project name or '') for the views."""
    changed = Signal()
    """Config or a server state changed: views that show them refresh."""
    quitRequested = Signal()

    def __init__(
        self,
        paths: AppPaths,
        store: ConfigStore,
        manager: ServerManager,
        *,
        autostart: Autostart | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.store = store
        self.manager = manager
        self.autostart = autostart
        loaded = store.load()
        self.config: Config = loaded.config
        self.load_problem = loaded.problem
        self.windows = Windows()
        self.notices = ServerNotices(
            manager, self.notify, self.find, lambda: self.config.settings, parent=self
        )
        manager.stateChanged.connect(self._on_state_changed)
        self._apply_settings()
        self.store_watch = StoreWatch(self._running_projects, parent=self)
        self.store_watch.changed.connect(self._on_store_changed)
        self.team = TeamProjects(paths, parent=self)
        self.team.changed.connect(self._on_team_changed)
        self.team.merged(self.config)  # the last known team projects now, a fresh read in a thread
        self.updates = Updates(paths, lambda: self.config.settings, self.update_config,
                               self.notify, parent=self)  # fmt: skip
        self.updates.changed.connect(self.changed)
        self.run_watch = RunWatch(paths, self, parent=self)  # run notifications, Active runs

    # -- config --------------------------------------------------------------------------------

    def reload(self) -> Config:
        """Re-read the config: the CLI may have changed it since the last look."""
        try:
            loaded = self.store.load()
        except Exception as exc:  # a lock timeout or an unreadable folder: keep what we have
            log.warning("could not reload the config: %s", exc)
            return self.config
        self.config = loaded.config
        if loaded.problem:
            emit(self.notify, "Config file reset", loaded.problem, "warning", "")
        self._apply_settings()
        return self.config

    def update_config(self, change: Callable[[Config], None]) -> Config:
        """Change the config on disk under its lock (merging with other writers) and refresh."""
        self.config = self.store.update(change)
        self._apply_settings()
        emit(self.changed)
        return self.config

    def projects(self) -> list[Project]:
        return list(self.config.projects)

    def find(self, name: str) -> Project | None:
        """A local project, else a (read-only) team project of that name."""
        local = self.config.find(name)
        if local is not None:
            return local
        listed = self.team.find(self.config, name)
        return listed.project if listed is not None else None

    def listed(self) -> list[Listed]:
        """Every project as the menu lists it: local ones, then team ones (marked)."""
        return self.team.merged(self.config).projects

    def is_team(self, name: str) -> bool:
        if self.config.find(name) is not None:
            return False
        listed = self.team.find(self.config, name)
        return listed is not None and listed.team

    def _apply_settings(self) -> None:
        s = self.config.settings
        self.manager.configure(
            policy=s.switch_policy, idle_minutes=s.idle_stop_minutes, open_browser=s.open_browser
        )

    # -- state for the views ------------------------------------------------------------------

    def rows(self) -> list[ProjectRow]:
        """Every listed project as the views show it now (project_row.py)."""
        return [self.row(listed) for listed in self.listed()]

    def row(self, listed: Listed) -> ProjectRow:
        return build_row(listed, self.manager, self.store_watch, self.fast_views)

    def state(self, name: str) -> State:
        return self.manager.state(name)

    def live_names(self) -> set[str]:
        """The projects that start, run or failed (a long menu lists them first): asked of the
        manager's servers only, not of a row per listed project."""
        return {name for name in self.manager.names() if self.manager.state(name) in LIVE}

    def tooltip(self) -> str:
        return tooltip(self.manager)

    def aggregate(self) -> str:
        """The icon's state: 'failed', 'starting', 'running' or 'idle' (the first that applies)."""
        return self.manager.aggregate()

    def anything_active(self) -> bool:
        """Whether a server starts or runs: Stop all applies."""
        return bool(self.manager.active())

    @property
    def update_offer(self) -> UpdateOffer | None:
        """The newer version the menu offers ("Update to X.Y.Z"), while a check found one."""
        offer = self.updates.offer
        if offer is None:
            return None
        return UpdateOffer(offer.release.version, installing=self.updates.installing)

    @property
    def self_updating(self) -> bool:
        """Whether this copy updates itself (an installed Windows copy): Settings asks then."""
        return self.updates.applies

    def autostart_enabled(self) -> bool:
        if self.autostart is None:
            return False
        try:
            return self.autostart.is_enabled()
        except OSError:
            return False

    # -- actions -------------------------------------------------------------------------------

    def open_project(self, name: str) -> None:
        """A click on a project: start it if needed and open it in the browser."""
        project = self._project_or_warn(name)
        if project is None or not ask_if_missing(project):  # a team database's password, once
            return
        if self.config.settings.last_project != project.name or stale(self.config, project.name):
            self._remember(project.name)
        self.manager.open(project)
        self.fast_views.refresh_if_stale(project, self.config.settings.view_refresh_minutes)

    def open_default(self) -> None:
        """Double-click or a second start without a name: the last used project, else settings."""
        last = self.config.settings.last_project
        if last and self.find(last) is not None:
            self.open_project(last)
        else:
            self.show_settings()

    def start(self, name: str) -> None:
        project = self._project_or_warn(name)
        if project is not None and ask_if_missing(project):
            self.manager.start(project)

    def stop(self, name: str) -> None:
        self.manager.stop(name)

    def restart(self, name: str, *, upgrade_schema: bool = False) -> None:
        project = self._project_or_warn(name)
        if project is not None:
            self.manager.restart(project, upgrade_schema=upgrade_schema)

    def stop_all(self) -> None:
        self.manager.stop_all(wait=False)

    def install_update(self) -> None:
        """ "Update to X.Y.Z": download, check and run the installer (ui/updates.py)."""
        self.updates.install()

    def start_update_checks(self) -> None:
        """Once the tray shows: ask (the first time) and check daily, where updates apply."""
        self.updates.start()

    def refresh_fast_view(self, project: Project) -> None:
        """Build a new fast view in the background; a running server restarts on it."""
        self.fast_views.refresh(project)

    def copy_url(self, name: str) -> None:
        link = self.manager.link(name)  # with the server's key, if any
        if link:
            QGuiApplication.clipboard().setText(link)
        else:
            emit(self.notify, name, f"{name} is not running, so it has no URL yet.", "info", name)

    def copy_snippet(self, name: str) -> None:
        from launcher.model.snippet import tracking_snippet

        project = self._project_or_warn(name)
        if project is None:
            return
        try:
            QGuiApplication.clipboard().setText(tracking_snippet(project))
        except StoreError as exc:
            emit(self.notify, f"{name}: no snippet", str(exc), "error", name)

    def show_log(self, name: str) -> None:
        from launcher.ui.tray.log_viewer import LogViewer

        project = self.find(name)
        path = (
            self.manager.log_path(project)
            if project is not None
            else self.paths.server_log(Project(name, "/").slug)
        )
        self.windows.show(
            f"log:{name}",
            LogViewer,
            lambda: LogViewer(path, title=f"{name}: server log"),
            reuse=lambda viewer: viewer.path == path,
        )

    def edit_project(self, name: str) -> None:
        from launcher.ui.settings.project_editor import ProjectEditor

        project = self._project_or_warn(name)
        if project is None:
            return
        if self.is_team(name):
            emit(
                self.notify,
                f"{name} is a team project",
                "Team projects are read-only. Duplicate it in Settings to make a local copy "
                "you can change.",
                "info",
                name,
            )
            return
        self.windows.show(f"edit:{name}", ProjectEditor, lambda: ProjectEditor(self, project))

    @property
    def fast_views(self) -> FastViews:
        """A fast view's age, its refresh on demand and on open (launcher.ui.fast_view)."""
        views = getattr(self, "_fast_views", None)
        if views is None:
            views = FastViews(
                self.paths,
                lambda n: self.state(n) is State.RUNNING,
                lambda n: self.restart(n),
                lambda title, text: emit(self.notify, title, text, "warning", ""),
            )
            self._fast_views = views
        return views

    def move_to(self, name: str) -> None:
        """The "Move to…" dialog of a folder or SQLite store (settings/move_dialog.py): a new
        SQLite file or a team database; a switch saves the password in the credential store."""
        from launcher.model.switch import switch_to_database
        from launcher.ui.settings.move_dialog import MoveDialog

        project = self._project_or_warn(name)
        if project is None or self.is_team(name):
            return

        def switch(done: Project, database: str, **how: Any) -> None:
            def change(config: Config) -> None:  # how: kept_as, artifacts, workspace
                switch_to_database(config, done.name, database, **how)

            self.update_config(change)

        self.windows.show(
            f"move:{name}", MoveDialog, lambda: MoveDialog(project, self.paths, switch)
        )

    def save_project(self, old_name: str, project: Project) -> None:
        """Store an added (old_name '') or edited project; a running server follows a rename."""
        if old_name:
            self.update_config(lambda c: c.replace(old_name, project))
            if old_name != project.name:
                self.manager.rename(old_name, project)
        else:
            self.update_config(lambda c: c.add(project))

    def remove_project(self, name: str) -> None:
        def change(config: Config) -> None:
            config.remove(name)

        self.update_config(change)
        self.manager.forget(name)

    def open_link(self, name: str, url: str) -> None:
        """A deep link into a running project's UI (an experiment, a stage's comparison)."""
        server = self.manager.server(name)
        if server is not None:
            server.last_activity = time.monotonic()  # it is being used: no idle stop
        self.manager.open_url(url, key=server.access_key if server is not None else None)

    def new_experiment_name(self, name: str) -> None:
        """The "New experiment name…" dialog for a project (its server's list when it runs)."""
        from launcher.ui.tray.name_dialog import NameDialog

        project = self._project_or_warn(name)
        if project is None:
            return
        base_url = self.manager.link(name)
        self.windows.show(
            f"name:{name}", NameDialog, lambda: NameDialog(project, self.paths, base_url=base_url)
        )

    def refresh_team(self) -> None:
        """Read the subscribed team catalogs again (in a thread); views refresh when done."""
        self.team.refresh(self.config.catalogs)

    def team_status(self) -> tuple[bool, list[CatalogStatus]]:
        """Whether the team catalogs are being read now, and those that could not be read."""
        return self.team.refreshing, self.team.problems()

    def active_runs(self) -> list[RunInfo]:
        """The watched projects' active runs ("Active runs (N)"); none while watching is off."""
        return self.run_watch.active() if self.run_watch.enabled else []

    def open_run(self, run: RunInfo) -> None:
        """A run's page in the browser, its project's server started first if needed."""
        self.run_watch.open_run(run)

    def show_settings(self) -> None:
        from launcher.ui.settings.settings_dialog import SettingsDialog

        self.windows.show(
            "settings",
            SettingsDialog,
            lambda: SettingsDialog(self),
            reuse=lambda _dialog: True,
            prepare=lambda dialog: dialog.refresh(),
        )

    def set_autostart(self, enabled: bool) -> None:
        if self.autostart is not None:
            try:
                self.autostart.set_enabled(enabled)
            except OSError as exc:
                emit(self.notify, "Start at login", f"Could not change it: {exc}", "error", "")
                return

        def change(config: Config) -> None:
            config.settings.start_at_login = enabled

        self.update_config(change)

    def about(self) -> None:
        from launcher.ui.common.dialogs import show_about

        show_about(self.paths)

    def quit(self) -> None:
        emit(self.quitRequested)

    def notification_clicked(self) -> None:
        """The user clicked the last notification: a run's opens it; a failure's, its log."""
        if self.run_watch.open_last():
            return
        if self.notices.last_failed:
            self.show_log(self.notices.last_failed)

    # -- reactions to the core -----------------------------------------------------------------

    @Slot(str)
    def _on_state_changed(self, _name: str) -> None:
        emit(self.changed)

    def _running_projects(self) -> list[Project]:
        running = (n for n in self.manager.names() if self.manager.state(n) is State.RUNNING)
        return [p for p in map(self.find, running) if p is not None]

    @Slot(str, bool)
    def _on_store_changed(self, name: str, reachable: bool) -> None:
        """One notification when a served store goes away; its state line says when it is back."""
        if not reachable:
            project = self.find(name)
            where = project.parsed_store().display if project is not None else "The store"
            emit(
                self.notify,
                f"{name}: store unreachable",
                f"{where} does not answer (share offline or VPN down?). The server keeps "
                "running and serves the project again once the store answers.",
                "warning",
                name,
            )
        emit(self.changed)

    @Slot()
    def _on_team_changed(self) -> None:
        emit(self.changed)

    # -- helpers -------------------------------------------------------------------------------

    def _project_or_warn(self, name: str) -> Project | None:
        project = self.find(name)
        if project is None:
            self.reload()
            project = self.find(name)
        if project is None:
            known = ", ".join(p.name for p in self.config.projects) or "none"
            emit(
                self.notify, "Unknown project", f"No project named {name!r} ({known}).", "error", ""
            )
        return project

    def _remember(self, name: str) -> None:
        def change(config: Config) -> None:
            config.settings.last_project = name
            config.settings.recent = remember(config.settings.recent, name)
            config.settings.opened = opened_now(config, name)  # its runs are watched (14 days)

        try:
            self.update_config(change)
        except Exception as exc:  # remembering is a nicety: never block the open
            log.warning("could not remember the last project: %s", exc)
