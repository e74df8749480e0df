"""The tray's side of fast views: the snapshot's age in the menu ("view of 10:32"), a refresh
on demand, and one in the background when a project is opened on a snapshot older than the
setting. The running server keeps serving its snapshot while the next one is built, and is
restarted on the new file when it is complete (see launcher.server.snapshot for why a restart
rather than swapping the file under it).

It receives what it needs as callables; snapshot code loads on first use, not at tray start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.ui.workers import run_in_thread

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
        """What the project's submenu shows about its snapshot."""
        from launcher.server import snapshot

        if project.name in self.refreshing:
            return "Fast view: refreshing…"
        snap = snapshot.latest(self.paths, project)
        return f"Fast view: {snap.label}" if snap else "Fast view: no snapshot yet"

    def refresh(self, project: Project) -> None:
        """Build a new snapshot in the background; then restart a running server on it."""
        from launcher.server import snapshot

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

        run_in_thread(lambda: snapshot.refresh(project, self.paths), done, failed, name="fast-view")

    def refresh_if_stale(self, project: Project, minutes: int) -> None:
        """On open: a snapshot older than ``minutes`` is refreshed in the background (the
        project opens at once on the old one). No snapshot yet: the start builds it."""
        from launcher.server import snapshot

        if not project.fast_view or minutes <= 0:
            return
        snap = snapshot.latest(self.paths, project)
        if snap is not None and snap.age_seconds() > minutes * 60:
            self.refresh(project)
