"""Which projects' runs the tray watches: each project's own choice, else the recent ones.

"Recent" is added or opened in the last :data:`RECENT_DAYS` days: the projects a user works
with. When a project was opened is noted in the settings (``opened``); when the watcher first
saw a project configured is kept in its state (``WatchState.first_seen``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from launcher.model.config import Config
from launcher.model.project import Project

RECENT_DAYS = 14
"""A project with no "Watch runs" choice of its own is watched when it was added or opened
this recently: the projects a user works with."""


def watched(
    choice: bool | None, *, opened_at: float | None, first_seen: float | None, now: float
) -> bool:
    """Whether a project's runs are watched: its own choice, else whether it is recent."""
    if choice is not None:
        return choice
    window = RECENT_DAYS * 86400
    # A hand-edited config may hold anything: only numbers count.
    return any(isinstance(t, (int, float)) and now - t < window for t in (opened_at, first_seen))


def watched_projects(
    projects: Iterable[Project],
    opened: dict[str, float],
    first_seen: dict[str, float],
    now: float,
) -> list[Project]:
    """The projects whose runs are watched (:func:`watched` for each)."""
    return [
        p
        for p in projects
        if watched(
            p.watch_runs, opened_at=opened.get(p.name), first_seen=first_seen.get(p.name), now=now
        )
    ]


def opened_now(config: Config, name: str) -> dict[str, float]:
    """``settings.opened`` with ``name`` opened now (removed projects dropped)."""
    known = {p.name for p in config.projects} | {name}
    kept = {k: v for k, v in config.settings.opened.items() if k in known}
    return {**kept, name: time.time()}


def stale(config: Config, name: str) -> bool:
    """Opened more than a day ago (or never noted): worth noting again, for :func:`watched`."""
    when = config.settings.opened.get(name)
    return not isinstance(when, (int, float)) or time.time() - when > 86400
