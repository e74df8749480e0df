"""The fast view of a folder store: a local SQLite copy of it, served read-only.

A team share that several people still log to cannot be moved by one person's click, and a
folder store over SMB reads one file per run, param, tag and metric for every page. The fast
view copies it with the same converter as a move to SQLite (``move.to_sqlite.convert``) into the
launcher's data dir and serves that copy behind ``readonly_guard`` (a write there would be lost
at the next refresh). Artifacts are not copied: the view keeps their URIs on the share.

How a running server moves to a newer view: every refresh writes a NEW file
(``view-<time>.db``, complete before it gets that name), and the server is restarted on it when
it is done; the running server keeps serving its own file meanwhile. Replacing the file under
a running server's open SQLite connections instead would risk torn reads and, on Windows,
fails outright (an open file cannot be replaced). Older views are removed once unused; the
newest two are kept, so the file a server still has open is never the one deleted.

No check against the share after a refresh: others write to it while it is copied, so a
difference would be expected, not a fault. The copy is a single transaction of MLflow's own
converter, so each view is consistent with itself.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import Store, parse_store
from launcher.server.checks.failures import Cause, Failure, ServerFailed
from launcher.server.child import protocol
from launcher.server.stores.move import to_sqlite
from launcher.server.stores.move.child_run import MoveError, Step
from launcher.server.stores.move.partial_files import partial_path, remove_partial

PREFIX = "view-"
STAMP = "%Y%m%d-%H%M%S-%f"
KEEP = 2


@dataclass(frozen=True)
class View:
    """One complete copy a fast view serves: ``view-<time>.db``."""

    path: Path
    taken_at: datetime

    @property
    def label(self) -> str:
        """What the tray shows: "view of 10:32" (with the date when it is not today's)."""
        if self.taken_at.date() == datetime.now().date():
            return f"view of {self.taken_at:%H:%M}"
        return f"view of {self.taken_at:%d %b %H:%M}"

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now()) - self.taken_at).total_seconds()


def folder(paths: AppPaths, project: Project) -> Path:
    """Where a project's views live (named ``snapshots`` on disk since the first release)."""
    return paths.data_dir / "snapshots" / project.slug


def views(paths: AppPaths, project: Project) -> list[View]:
    """Complete views of ``project``, newest first."""
    found = []
    with contextlib.suppress(OSError):
        for path in folder(paths, project).glob(f"{PREFIX}*.db"):
            try:
                taken = datetime.strptime(path.stem[len(PREFIX) :], STAMP)
            except ValueError:
                continue
            found.append(View(path, taken))
    return sorted(found, key=lambda s: s.taken_at, reverse=True)


def latest(paths: AppPaths, project: Project) -> View | None:
    found = views(paths, project)
    return found[0] if found else None


def refresh(
    project: Project,
    paths: AppPaths,
    *,
    progress: Callable[[Step], None] | None = None,
    cancel: threading.Event | None = None,
) -> View:
    """Build a new view of ``project``'s folder store; raises MoveError."""
    taken = datetime.now()
    target = folder(paths, project) / f"{PREFIX}{taken.strftime(STAMP)}.db"
    plan = to_sqlite.plan(replace(project, fast_view=False), paths, str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = partial_path(target)
    log_path = paths.log_dir / "snapshots" / f"{project.slug}.log"
    try:
        to_sqlite.convert(
            plan, temp, log_path, progress or (lambda step: None), cancel or threading.Event()
        )
        os.replace(temp, target)
    finally:
        remove_partial(temp)
    prune(paths, project)
    return View(target, taken)


def prune(paths: AppPaths, project: Project, keep: int = KEEP) -> None:
    """Remove all but the newest ``keep`` views (one still open elsewhere stays: Windows
    refuses, and POSIX keeps an unlinked file readable for whoever has it open)."""
    for old in views(paths, project)[keep:]:
        with contextlib.suppress(OSError):
            old.path.unlink()


def serving_store(project: Project, paths: AppPaths) -> tuple[Store, View]:
    """The view to serve (built now when there is none yet), as a store."""
    try:
        snap = latest(paths, project) or refresh(project, paths)
    except MoveError as exc:
        raise ServerFailed(
            Failure(Cause.STORE_UNREACHABLE, f"the fast view could not be built: {exc}")
        ) from exc
    return parse_store(str(snap.path)), snap


def read_only_message(project: Project, snap: View) -> str:
    return (
        f"This is a read-only fast view of {project.store} ({snap.label}): a copy, so "
        "nothing can be changed here. To change data, open the live store: log with the "
        f"store as tracking URI, or turn the fast view off (mlflow-launcher edit "
        f"{project.name!r} --no-fast-view)."
    )


def guard_env(project: Project, snap: View, lean: bool) -> dict[str, str]:
    """What a server's environment needs to serve ``snap`` read-only."""
    if not lean:
        raise ServerFailed(
            Failure(
                Cause.BAD_STORE,
                "a fast view is served read-only by the launcher's lean server, which this "
                "project's Python environment or extra server options rule out.",
            )
        )
    return {protocol.READ_ONLY_VAR: read_only_message(project, snap)}
