"""One project as the views show it: a menu entry, a Find project line, a settings list row.

The controller builds a :class:`ProjectRow` from the config and the servers as they are now
(:func:`build`); the tray menu, the project finder and the settings list read rows and forward
clicks by name, so none of them reaches into the server manager, the store watch or the fast
views. A row is a snapshot: frozen, and built again at each look (the menu is rebuilt each time
it opens). What the menu shows that belongs to no project (the update offer, whether anything
runs, the icon's state) is the controller's to say too.
"""

from __future__ import annotations

from dataclasses import dataclass

from launcher.model.catalog import Listed
from launcher.model.project import Project
from launcher.model.stores import StoreError, StoreKind
from launcher.server.checks.failures import Failure
from launcher.server.manager import ServerManager
from launcher.server.state import State
from launcher.server.store_watch import StoreWatch
from launcher.ui.fast_view import FastViews
from launcher.ui.status_text import status_text
from launcher.ui.team import label, tooltip

_MOVABLE = (StoreKind.FOLDER, StoreKind.SQLITE)


LIVE = frozenset({State.STARTING, State.RUNNING, State.FAILED})
"""The states a long menu lists first (a project that starts, runs or failed)."""


@dataclass(frozen=True)
class ProjectRow:
    listed: Listed
    """The project, and the team catalog it comes from (None: a local project)."""
    label: str
    """Its name as listed: ``Name  [team]`` for a team project."""
    hint: str
    """A team project's tool tip (where it comes from, read-only); '' for a local one."""
    store: str
    """The store as shown: its display form, else the text as configured."""
    store_kind: StoreKind | None
    """None: a store text that cannot be served."""
    state: State
    status: str
    """The state in a few words ("running on port N", "failed: CAUSE", ...: status_text.py)."""
    url: str | None
    """The running server's URL (without its access key); None unless it runs."""
    link: str | None
    """That URL carrying the server's key: what the Experiments submenu reads."""
    failure: Failure | None
    """Why the last start failed, while the state is FAILED."""
    unprotected: str
    """A running server that anyone on this PC can use: why, in plain words; else ''."""
    fast_view: str
    """A folder store served from a fast view: the view's age ("Fast view: 10:32"); else ''."""

    @property
    def project(self) -> Project:
        return self.listed.project

    @property
    def name(self) -> str:
        return self.listed.project.name

    @property
    def team(self) -> bool:
        return self.listed.team

    @property
    def running(self) -> bool:
        return self.state is State.RUNNING

    @property
    def active(self) -> bool:
        """Starting or running: Stop applies."""
        return self.state in (State.STARTING, State.RUNNING)

    @property
    def live(self) -> bool:
        """Starting, running or failed: a long menu lists it first."""
        return self.state in LIVE

    # -- which actions apply -------------------------------------------------------------------

    @property
    def can_copy_url(self) -> bool:
        return self.running

    @property
    def has_experiments(self) -> bool:
        """The Experiments submenu: the running server's list."""
        return self.running and bool(self.url)

    @property
    def can_edit(self) -> bool:
        """Edit and Remove: a local project (a team project is read-only)."""
        return not self.listed.read_only

    @property
    def movable(self) -> bool:
        """A folder or SQLite store: "Move to…" is offered (greyed for a team project)."""
        return self.store_kind in _MOVABLE

    @property
    def can_move(self) -> bool:
        return self.movable and self.can_edit


def build_row(
    listed: Listed, manager: ServerManager, watch: StoreWatch, fast_views: FastViews
) -> ProjectRow:
    """``listed``'s row as the servers, the store watch and the fast views say now."""
    project = listed.project
    name = project.name
    try:
        parsed = project.parsed_store()
        store, kind = parsed.display, parsed.kind
    except (StoreError, ValueError):
        store, kind = project.store, None
    state = manager.state(name)
    running = state is State.RUNNING
    fast = project.fast_view and kind is StoreKind.FOLDER
    return ProjectRow(
        listed=listed,
        label=label(listed),
        hint=tooltip(listed),
        store=store,
        store_kind=kind,
        state=state,
        status=status_text(manager, watch, name),
        url=manager.url(name),
        link=manager.link(name),
        failure=manager.failure(name),
        unprotected=_unprotected(project, kind, manager) if running else "",
        fast_view=fast_views.label(project) if fast else "",
    )


def _unprotected(project: Project, kind: StoreKind | None, manager: ServerManager) -> str:
    """Why a running server is not behind an access key ('' when it is: access_key.py)."""
    if kind is None:
        return ""
    from launcher.server import access_key  # the tray loads it on a running project's first look

    lean = getattr(manager.server(project.name), "lean", None)
    protected, text = access_key.protection(project, remote=kind is StoreKind.REMOTE, lean=lean)
    return "" if protected else text
