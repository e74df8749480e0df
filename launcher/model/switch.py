"""Pointing a project at the database its folder store was migrated to, losing nothing.

Pure config: the project keeps its name, prefix and settings and gets the new store; the old
folder store stays in the menu as a second project, "NAME (folder)", so it is one click away
(for a look at what was there, or if others still log to it).
"""

from __future__ import annotations

from dataclasses import replace

from launcher.model.config import Config
from launcher.model.project import Project

FOLDER_SUFFIX = " (folder)"


def folder_name(config: Config, name: str) -> str:
    """``NAME (folder)``, or ``NAME (folder 2)``... when that name is taken."""
    candidate = f"{name}{FOLDER_SUFFIX}"
    number = 2
    while config.find(candidate) is not None:
        candidate = f"{name} (folder {number})"
        number += 1
    return candidate


def switch_to_database(config: Config, name: str, database: str) -> tuple[Project, Project]:
    """Point ``name`` at ``database``; returns (the switched project, the kept folder project).

    The kept project is placed right after the switched one in the menu's order.
    """
    current = config.get(name)
    kept = replace(
        current, name=folder_name(config, current.name), extra_args=[*current.extra_args]
    )
    # A database is fast already: a fast view (a local copy of a folder) makes no sense on it.
    switched = replace(current, store=database, fast_view=False, extra_args=[*current.extra_args])
    config.replace(current.name, switched)
    config.projects.insert(config.projects.index(switched) + 1, kept)
    return switched, kept
