"""The tray's side of fast views: the view's age in the menu ("view of 10:32"), a refresh
on demand, and one in the background when a project is opened on a view older than the
setting. The running server keeps serving its view while the next one is built, and is
restarted on the new file when it is complete (see launcher.server.stores.fast_view for why
a restart rather than swapping the file under it).

It receives what it needs as callables; the fast-view code loads on first use, not at tray start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.ui.common.workers import run_in_thread

log = logging.getLogger(__name__)


class FastViews:
    def __init__(
        self,
        paths: AppPaths,
        is_running: Callable[[str], bool],
        restart: Callable[[str], None],
        notify: Callable[[str, str], None],
    ) -> None:
        self.paths = paths
        self.is_running = is_running
        self.restart = restart
        self.notify = notify
        self.refreshing: set[str] = set()

    def label(self, project: Project) -> str:
        """What the project's submenu shows about its fast view."""
        from launcher.server.stores import fast_view

        if project.name in self.refreshing:
            return "Fast view: refreshing…"
        snap = fast_view.latest(self.paths, project)
        return f"Fast view: {snap.label}" if snap else "Fast view: not built yet"

    def refresh(self, project: Project) -> None:
        """Build a new view in the background; then restart a running server on it."""
        from launcher.server.stores import fast_view

        name = project.name
        if name in self.refreshing:
            return
        self.refreshing.add(name)

        def done(_result: object) -> None:
            self.refreshing.discard(name)
            if self.is_running(name):
                self.restart(name)

        def failed(exc: BaseException) -> None:
            self.refreshing.discard(name)
            log.warning("refreshing the fast view of %s failed: %s", name, exc)
            self.notify(f"{name}: the fast view was not refreshed", str(exc))

        run_in_thread(
            lambda: fast_view.refresh(project, self.paths), done, failed, name="fast-view"
        )

    def refresh_if_stale(self, project: Project, minutes: int) -> None:
        """On open: a view older than ``minutes`` is refreshed in the background (the
        project opens at once on the old one). No view yet: the start builds it."""
        from launcher.server.stores import fast_view

        if not project.fast_view or minutes <= 0:
            return
        snap = fast_view.latest(self.paths, project)
        if snap is not None and snap.age_seconds() > minutes * 60:
            self.refresh(project)
