"""Several projects' stores gathered into one database, one MLflow workspace per project.

Each project (a folder or SQLite store) goes in as ``to_database`` moves one store, with what
``move`` promises kept per project: a folder store converted and checked first, then ONE
transaction that creates the workspace and copies its rows (``child/copy_db.py`` in workspace
mode), verified table by table (every record kind) against the rows of that workspace only;
experiment ids renumbered where the database has them taken, and listed; the stores only read.

The target may already hold other workspaces; each new one must not exist (checked by the child
before it writes). Projects go one after another: a failure or a cancel stops at that project,
whose transaction is rolled back (no half-made workspace), and the report says which workspaces
were made (each complete and verified) and which were not started. A target SQLite file must be
on this PC's own disk: it is what a team server on SQLite serves (``team_server``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launcher.model import stores as workspace_names
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreError, StoreKind, parse_store, redact
from launcher.server.stores import shares
from launcher.server.stores.move import to_database
from launcher.server.stores.move.child_run import MoveCancelled, MoveError, Step
from launcher.server.stores.move.to_database import DatabasePlan, DatabaseResult

DUPLICATE = (
    "The database already holds records with this store's ids (run, trace or model ids are "
    "kept as they are): was this store, or a copy of it, gathered before?"
)


def target_problem(url: str) -> str | None:
    """Why ``url`` cannot take a gather; None when it can (PostgreSQL, MySQL, local SQLite)."""
    try:
        target = parse_store(url)
    except StoreError as exc:
        return str(exc)
    if target.kind is StoreKind.SQLITE and target.path:
        share = shares.network_share(target.path)
        if share:
            return (
                f"{target.path} is on {share}: a SQLite file there corrupts with several "
                "writers. Gather into a SQLite file on the team server's own disk, or into "
                "PostgreSQL."
            )
        return None
    if target.kind is StoreKind.SQL and to_database.is_database_url(target.uri):
        return None
    return f"{redact(url)} is neither a SQLite file nor a PostgreSQL or MySQL database URL."


def plan(
    projects: list[Project],
    paths: AppPaths,
    url: str,
    *,
    password: str | None = None,
    workspaces: dict[str, str] | None = None,
) -> list[DatabasePlan]:
    """One plan per project, each into its workspace (named after the project unless
    ``workspaces`` maps its name); refused before anything is written."""
    if not projects:
        raise MoveError("No project to gather.")
    problem = target_problem(url)
    if problem:
        raise MoveError(problem)
    named = workspaces or {}
    plans = []
    seen: dict[str, str] = {}
    for project in projects:
        workspace = named.get(project.name) or workspace_names.workspace_for(project.name)
        bad = workspace_names.workspace_problem(workspace)
        if bad:
            raise MoveError(f"{project.name!r}: {bad}.")
        if workspace in seen:
            raise MoveError(
                f"{project.name!r} and {seen[workspace]!r} would both be workspace "
                f"{workspace!r}: name one of them (--workspace NAME=WORKSPACE)."
            )
        if workspace == workspace_names.DEFAULT_WORKSPACE:
            raise MoveError(f"{project.name!r}: 'default' is the database's own workspace.")
        seen[workspace] = project.name
        plans.append(to_database.plan(project, paths, url, password=password, workspace=workspace))
    return plans


@dataclass
class GatherResult:
    done: list[DatabaseResult] = field(default_factory=list)
    """The workspaces made, each committed in its own transaction and verified."""
    stopped: str = ""
    """Why the gather stopped at a project ('' when every project went in)."""
    stopped_at: str = ""
    not_started: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.stopped and all(r.ok for r in self.done)

    def report(self) -> str:
        lines = []
        for result in self.done:
            lines.append(f"Workspace {result.plan.workspace!r} ({result.plan.project.name}):")
            lines += ["  " + line for line in result.report().splitlines()]
        if self.stopped:
            lines.append(
                f"Stopped at {self.stopped_at!r}: {self.stopped} No workspace of it was made."
            )
        if self.not_started:
            lines.append("Not started: " + ", ".join(self.not_started) + ".")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "workspaces": {r.plan.workspace: r.to_dict() for r in self.done},
            "stopped": self.stopped,
            "stopped_at": self.stopped_at,
            "not_started": self.not_started,
        }


def gather(
    plans: list[DatabasePlan],
    paths: AppPaths,
    *,
    progress: Callable[[str, Step], None] | None = None,
    cancel: threading.Event | None = None,
) -> GatherResult:
    """Each plan in turn; stops at the first refusal, failure, difference or cancel."""
    cancel = cancel or threading.Event()
    result = GatherResult()
    for index, the_plan in enumerate(plans):
        workspace = the_plan.workspace

        def seen(step: Step, workspace: str = workspace) -> None:
            if progress:
                progress(workspace, step)

        rest = [p.project.name for p in plans[index + 1 :]]
        try:
            if cancel.is_set():
                raise MoveCancelled("Cancelled.")
            done = to_database.move(the_plan, paths, progress=seen, cancel=cancel)
        except MoveCancelled:
            result.stopped, result.stopped_at = "Cancelled.", the_plan.project.name
            result.not_started = rest
            return result
        except MoveError as exc:
            result.stopped, result.stopped_at = str(exc), the_plan.project.name
            if exc.cause == "target-duplicate":
                result.stopped = f"{DUPLICATE} {exc}"
            result.not_started = rest
            return result
        result.done.append(done)
        if not done.ok:
            result.stopped = "it differs from its store (see above)."
            result.stopped_at = the_plan.project.name
            result.not_started = rest
            return result
    return result


def source_label(the_plan: DatabasePlan) -> str:
    return f"{the_plan.project.name} ({Path(the_plan.source)})"
