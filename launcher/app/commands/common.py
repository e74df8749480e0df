"""What every command of the command line shares: exit codes, usage errors, loading the config
and finding a project (local first, then team catalogs).

Kept apart from ``launcher.app.cli`` so that the command modules (one per capability, in this
package) can use it without importing the parser that registers them.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Protocol

from launcher.model import catalog
from launcher.model.catalog import Catalogs, CatalogStatus
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Terminate(Exception):
    """Raised from the SIGTERM handler so a foreground server is stopped cleanly."""


class _Server(Protocol):
    @property
    def failure(self) -> object: ...

    def stop(self) -> None: ...

    def wait(self) -> object: ...


class UsageError(Exception):
    """Bad input: reported in one line, exit code 2."""


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def absolute_path(text: str) -> str:
    """A path the user typed, made absolute against the working directory (a share stays as is)."""
    text = text.strip()
    if text.startswith(("\\\\", "//")):
        return text  # a share: already absolute, and abspath would mangle it off Windows
    return os.path.abspath(os.path.expanduser(text))


def load(store: ConfigStore) -> Config:
    loaded = store.load()
    if loaded.problem:
        err(f"note: {loaded.problem}")
    return loaded.config


def find_project(config: Config, paths: AppPaths, name: str) -> Project:
    """A local project, else a team project (cached catalogs first, then read afresh)."""
    local = config.find(name)
    if local is not None or not config.catalogs:
        return config.get(name)
    catalogs = Catalogs(paths)
    for read in (catalogs.cached, catalogs.refresh):
        team = catalog.merge(config.projects, read(config.catalogs)).find(name)
        if team is not None:
            return team.project
    return config.get(name)


def refuse_team_edit(config: Config, paths: AppPaths, name: str) -> None:
    """Local edits never write back to a catalog: say so instead of 'no project named'."""
    if config.find(name) is not None or not config.catalogs:
        return
    team = catalog.merge(config.projects, Catalogs(paths).cached(config.catalogs)).find(name)
    if team is not None:
        raise UsageError(
            f"{team.project.name!r} is a team project from {team.catalog} (read-only); "
            f"make a local copy to change it: mlflow-launcher import {team.catalog!r} "
            f"{team.project.name!r}"
        )


def note_stale(statuses: Sequence[CatalogStatus]) -> None:
    for status in statuses:
        if status.stale:
            err(f"note: team catalog {status.describe()}")


def in_foreground(server: _Server, body: Callable[[], int]) -> int:
    """``body()``'s exit code, where Ctrl-C or SIGTERM stops ``server`` (its whole tree) cleanly.

    ``server`` is stopped on every way out, with SIGTERM ignored meanwhile.
    """
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise _Terminate()

    signal.signal(signal.SIGTERM, on_term)
    try:
        return body()
    except (KeyboardInterrupt, _Terminate):
        err("Stopping...")
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.stop()
        signal.signal(signal.SIGTERM, previous)


def until_it_exits(server: _Server) -> int:
    """Wait for a foreground server; its failure, if it failed, said in one line."""
    server.wait()
    if server.failure is not None:
        err(f"error: the server exited: {server.failure}")
        return EXIT_FAIL
    return EXIT_OK
