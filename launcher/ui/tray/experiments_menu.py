"""A running project's "Experiments" submenu, read from its server without ever blocking.

The tray menu is rebuilt each time it opens, and reading the experiment list is a REST call that
may take seconds on a busy server. So the submenu is created with what was read last time (or a
"Loading…" placeholder the very first time) and asks the server again in a worker thread; the
answer replaces the entries in place, even while the submenu is open.

Entries: "All experiments of <project>" (the project's own view), then one block per pipeline
stage (the stage with the newest experiment first, names not following the convention under
"Other", always last), each capped with a "More…" entry opening that stage's full comparison.
A click deep-links to ``#/experiments/<id>`` through the opener the caller passes (the manager's,
which hands the URL to the browser in a thread).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from launcher.model.links import ExperimentMenu, MenuGroup
from launcher.model.naming import DEFAULT_PER_STAGE
from launcher.model.project import Project
from launcher.ui.common.workers import run_in_thread

log = logging.getLogger(__name__)

LOADING = "Loading…"
TITLE = "Experiments"

Reader = Callable[[Project, str], ExperimentMenu]
"""Reads a running project's menu: ``reader(project, base_url)``; blocking, may raise."""
Opener = Callable[[str], object]

_cache: dict[tuple[str, str, str], ExperimentMenu] = {}
"""The last menu read per (project, prefix, server URL): shown at once the next time."""
_cache_lock = threading.Lock()


def read_menu(project: Project, base_url: str) -> ExperimentMenu:
    """The default reader: the server's REST API (imported late: the tray starts faster)."""
    from launcher.server.stores import experiments

    return experiments.read_menu(project, base_url, per_stage=DEFAULT_PER_STAGE)


def forget_cache() -> None:
    with _cache_lock:
        _cache.clear()


def menu_label(text: str) -> str:
    """Menu text shows ``&`` as a mnemonic marker: experiment names may hold one."""
    return text.replace("&", "&&")


class ExperimentsMenu(QMenu):
    """The submenu; :meth:`load` (called at creation) refreshes it in the background."""

    def __init__(
        self,
        project: Project,
        base_url: str,
        open_url: Opener,
        *,
        reader: Reader | None = None,
        title: str = TITLE,
        load: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(menu_label(title), parent)
        self.project = project
        self.base_url = base_url
        self._open_url = open_url
        self._reader: Reader = reader or read_menu
        self._key = (project.name, project.prefix, base_url)
        self.loading = False
        self.error: BaseException | None = None
        self.content: ExperimentMenu | None = None
        self.setObjectName(f"experiments:{project.name}")
        self.setToolTipsVisible(True)
        self.menuAction().setObjectName(f"experiments:{project.name}")
        # Clicking the submenu's own entry (the tray's menus allow it) opens the project view.
        self.menuAction().triggered.connect(self.open_project_view)
        self.aboutToShow.connect(self._retry_after_error)
        with _cache_lock:
            cached = _cache.get(self._key)
        if cached is not None:
            self._fill(cached)
        else:
            self._show_loading()
        if load:
            self.load()

    # -- loading -------------------------------------------------------------------------------

    def load(self) -> None:
        """Ask the server again in a worker thread (no-op while a read is under way)."""
        if self.loading:
            return
        self.loading = True
        project, url, key, reader = self.project, self.base_url, self._key, self._reader

        def work() -> ExperimentMenu:
            result = reader(project, url)
            with _cache_lock:  # even if this menu is gone by then, the next one starts from it
                _cache[key] = result
            return result

        run_in_thread(
            work, self._loaded, self._failed, owner=self, name=f"experiments-{project.name}"
        )

    def _loaded(self, result: ExperimentMenu) -> None:
        self.loading = False
        self.error = None
        self._fill(result)

    def _failed(self, exc: BaseException) -> None:
        self.loading = False
        self.error = exc
        log.info("experiments of %s not read: %s", self.project.name, exc)
        if self.content is not None:
            # Keep the last good list, and say it may be out of date.
            self._status(f"Could not refresh: {_short(exc)}", tooltip=str(exc))
            return
        self._clear()
        failed = self.addAction("Could not read the experiments")
        failed.setObjectName("experiments-error")
        failed.setEnabled(False)
        failed.setToolTip(str(exc))
        self._add("Try again", self.load, "experiments-retry")

    def _retry_after_error(self) -> None:
        if self.error is not None:
            self.load()

    # -- contents ------------------------------------------------------------------------------

    def _show_loading(self) -> None:
        self._clear()
        placeholder = self.addAction(LOADING)
        placeholder.setObjectName("experiments-loading")
        placeholder.setEnabled(False)

    def _fill(self, menu: ExperimentMenu) -> None:
        self.content = menu
        self._clear()
        count = f"{menu.total} experiment{'s' if menu.total != 1 else ''}"
        everything = self._add(
            f"All of {self.project.name} ({count})",
            lambda: self._open(menu.project_url),
            "experiments-all",
        )
        everything.setToolTip(menu.project_url)
        if menu.empty:
            none = self.addAction(
                f"No experiments starting with {self.project.prefix!r} yet"
                if self.project.prefix
                else "No experiments yet"
            )
            none.setObjectName("experiments-none")
            none.setEnabled(False)
        # "Other" last whatever the reader did: a real stage comes before the leftovers.
        for group in sorted(menu.groups, key=lambda g: g.other):
            self._add_group(group)

    def _add_group(self, group: MenuGroup) -> None:
        self.addSeparator()
        in_stage = len(group.items) + group.hidden
        header = self.addAction(menu_label(f"{group.stage}  ({in_stage})"))
        header.setObjectName(f"stage:{group.stage}")
        header.setEnabled(False)
        font = header.font()
        font.setBold(True)
        header.setFont(font)
        if group.other:
            header.setToolTip("Names that do not follow <project>_<stage>_<number>_<description>")
        for item in group.items:
            action = self._add(
                item.label, lambda _=False, u=item.url: self._open(u), f"experiment:{item.label}"
            )
            action.setData(item.url)
            action.setToolTip(item.url)
        if group.hidden:
            more = self._add(
                f"More… ({group.hidden} more in {group.stage})",
                lambda _=False, u=group.more_url: self._open(u),
                f"more:{group.stage}",
            )
            more.setData(group.more_url)

    def _add(self, text: str, slot: Callable[..., object], name: str) -> QAction:
        action = self.addAction(menu_label(text))
        action.setObjectName(name)
        action.triggered.connect(slot)
        return action

    def _status(self, text: str, *, tooltip: str = "") -> None:
        """A disabled line at the top (one at most), e.g. "could not refresh"."""
        for action in self.actions():
            if action.objectName() == "experiments-stale":
                self.removeAction(action)
        status = QAction(menu_label(text), self)
        status.setObjectName("experiments-stale")
        status.setEnabled(False)
        status.setToolTip(tooltip)
        actions = self.actions()
        self.insertAction(actions[0] if actions else None, status)  # type: ignore[arg-type]

    def _clear(self) -> None:
        self.clear()  # deletes the entries this menu owns

    # -- clicks --------------------------------------------------------------------------------

    def open_project_view(self) -> None:
        self._open(self.content.project_url if self.content is not None else self.base_url)

    def _open(self, url: str) -> None:
        self._open_url(url)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 60 else text[:57] + "…"
