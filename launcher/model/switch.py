"""Pointing a project at the database its folder store was moved to, losing nothing.

Pure config: the project keeps its name, prefix and settings and gets the new store; the old
store stays in the menu as a second project, "NAME (folder)" (or "NAME (sqlite)" when a SQLite
store moved to a team database), so it is one click away (for a look at what was there, or if
others still log to it).
"""

from __future__ import annotations

from dataclasses import replace

from launcher.model.config import Config
from launcher.model.project import Project

FOLDER_SUFFIX = " (folder)"


def folder_name(config: Config, name: str, kind: str = "folder") -> str:
    """``NAME (folder)``, or ``NAME (folder 2)``... when that name is taken (``kind`` is the
    old store's kind: "folder" or "sqlite")."""
    candidate = f"{name} ({kind})"
    number = 2
    while config.find(candidate) is not None:
        candidate = f"{name} ({kind} {number})"
        number += 1
    return candidate


def switch_to_database(
    config: Config,
    name: str,
    database: str,
    *,
    kept_as: str = "folder",
    artifacts: str | None = None,
    workspace: str = "",
) -> tuple[Project, Project]:
    """Point ``name`` at ``database``; returns (the switched project, the kept old project).

    The kept project is placed right after the switched one in the menu's order. ``artifacts``
    becomes the switched project's artifacts location (a team database needs a shared one).
    """
    current = config.get(name)
    kept = replace(
        current, name=folder_name(config, current.name, kept_as), extra_args=[*current.extra_args]
    )
    # A database is fast already: a fast view (a local copy of a folder) makes no sense on it.
    switched = replace(
        current,
        store=database,
        fast_view=False,
        extra_args=[*current.extra_args],
        workspace=workspace,  # gathered: the project is its workspace of the database
    )
    if artifacts is not None:
        switched = replace(switched, artifacts=artifacts)
    config.replace(current.name, switched)
    config.projects.insert(config.projects.index(switched) + 1, kept)
    return switched, kept
