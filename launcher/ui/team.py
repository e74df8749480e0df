"""Team projects for the menu and the settings list: local projects plus subscribed catalogs.

The last known copy of every catalog is read from the launcher's cache at once (small local
files); reading the catalogs themselves may hang on an offline share, so :meth:`refresh` runs in
a worker thread, at start and on demand, and :attr:`TeamProjects.changed` tells the views.
A catalog that could not be read keeps its last known projects and says so
(:meth:`TeamProjects.problems`). Team projects are read-only: nothing here writes to a catalog.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from launcher.model import catalog
from launcher.model.catalog import Catalogs, CatalogStatus, Listed, Merged
from launcher.model.config import Config
from launcher.model.paths import AppPaths
from launcher.server.signals import emit
from launcher.ui.common.workers import run_in_thread

log = logging.getLogger(__name__)

TEAM_MARK = "team"


def label(listed: Listed) -> str:
    """A project's name as listed, with a mark for a team project: ``Name  [team]``."""
    name = listed.project.name
    return f"{name}  [{TEAM_MARK}]" if listed.team else name


def tooltip(listed: Listed) -> str:
    if not listed.team:
        return ""
    return (
        f"Team project from {listed.catalog} (read-only). Duplicate it in Settings to make a "
        "local copy you can change."
    )


class TeamProjects(QObject):
    """The merged project list, kept up to date with the catalogs."""

    changed = Signal()
    """A refresh finished (its result may or may not differ)."""

    def __init__(
        self, paths: AppPaths, *, catalogs: Catalogs | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.catalogs = catalogs or Catalogs(paths)
        self.statuses: list[CatalogStatus] = []
        self._sources: tuple[str, ...] | None = None
        self.refreshing = False
        self._again: tuple[str, ...] | None = None

    def merged(self, config: Config) -> Merged:
        """Local projects, then team projects (a local name wins), for ``config`` as it is now.

        A subscription added or removed since the last look (the CLI may do it) is picked up:
        its cached copy at once, a fresh read in the background.
        """
        sources = tuple(config.catalogs)
        if sources != self._sources:
            self._use(sources)
            if sources:
                self.refresh()
        return catalog.merge(config.projects, self.statuses)

    def find(self, config: Config, name: str) -> Listed | None:
        return self.merged(config).find(name)

    def problems(self) -> list[CatalogStatus]:
        """Catalogs whose last read failed (their last known copy is shown)."""
        return [s for s in self.statuses if s.stale]

    def refresh(self, sources: Sequence[str] | None = None) -> None:
        """Read the catalogs again in a worker thread; :attr:`changed` fires when done.

        ``sources``: the subscriptions (``config.catalogs``); default: those of the last look.
        """
        if sources is not None and tuple(sources) != self._sources:
            self._use(tuple(sources))
        wanted = self._sources or ()
        if self.refreshing:
            self._again = wanted  # read once more when the current read ends
            return
        if not wanted:
            self.statuses = []
            emit(self.changed)
            return
        self.refreshing = True
        reader = self.catalogs
        run_in_thread(
            lambda: reader.refresh(list(wanted)),
            lambda result: self._refreshed(wanted, result),
            lambda exc: self._refreshed(wanted, None, exc),
            owner=self,
            name="catalog-refresh",
        )

    def _refreshed(
        self,
        sources: tuple[str, ...],
        result: list[CatalogStatus] | None,
        exc: BaseException | None = None,
    ) -> None:
        self.refreshing = False
        if exc is not None:
            log.warning("team catalogs not refreshed: %s", exc)
        elif sources == self._sources:
            self.statuses = list(result or [])
        again, self._again = self._again, None
        emit(self.changed)
        if again is not None and again == self._sources:
            self.refresh(again)

    def _use(self, sources: tuple[str, ...]) -> None:
        self._sources = sources
        self.statuses = self._cached(sources)

    def _cached(self, sources: Sequence[str]) -> list[CatalogStatus]:
        try:
            return self.catalogs.cached(sources)
        except Exception as exc:  # a cache that cannot be read only costs a refresh
            log.warning("team catalog cache not read: %s", exc)
            return [CatalogStatus(s, error="not read yet") for s in sources]
