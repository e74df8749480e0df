"""Moving a folder or SQLite store into a team database (PostgreSQL, MySQL), verified.

Why this shape:
- MLflow's converter writes SQLite only, so a folder store goes first to a temporary SQLite file
  exactly as ``to_sqlite`` does it (converted, then checked against the folder), and a SQLite
  store is used as it is, read-only. ``child/move/to_database.py`` then copies that file into
  the database, in the project's Python (it has MLflow and the driver), in one transaction, and
  compares both table by table (row count and content hash) before and after the commit.
- The URL with its password goes to the child in its environment (``protocol.TARGET_URL_VAR``),
  never in argv; every message, log line and report shows it redacted.
- A refusal, a failure or a cancel leaves the database as it was (the child's transaction is
  never committed; killing it drops its connection) and the project's config untouched. The
  child commits only on the launcher's go-ahead (``child_run``): a cancel after it is refused.
- Artifacts are never copied, so a team database needs an artifacts location colleagues can
  reach: without ``--artifacts`` (or the project's own) it is where the artifacts already are
  (the folder store, or the folder a SQLite store's experiments share); a move with none of these
  is refused.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreError, StoreKind, parse_store, redact
from launcher.server.child import protocol
from launcher.server.stores import record_kinds
from launcher.server.stores.move import to_sqlite, verify
from launcher.server.stores.move.child_run import (
    MoveCancelled,
    MoveError,
    Step,
    log_path_of,
    run_child,
)
from launcher.server.stores.move.partial_files import PARTIAL_MARK, remove_partial

DIALECTS = ("postgresql", "mysql", "mariadb")
_KIND_NAMES = {StoreKind.FOLDER: "folder", StoreKind.SQLITE: "SQLite"}


class ArtifactsRequired(MoveError):
    """A team database needs the project's artifacts location; ``suggestion`` is where the
    artifacts already are (the folder store, or the SQLite store's common artifact root)."""

    def __init__(self, message: str, suggestion: str | None) -> None:
        super().__init__(message, "artifacts-required")
        self.suggestion = suggestion


def is_database_url(text: str | None) -> bool:
    """Does ``--to`` name a database server rather than a SQLite file?"""
    head = (text or "").split(":", 1)[0].split("+", 1)[0].lower()
    return head in (*DIALECTS, "postgres")


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` put into it (quoted), unless it has one already."""
    if not password:
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.password is not None or not parts.username:
        return url
    host = parts.netloc.split("@", 1)[1]
    user = parts.netloc.split("@", 1)[0]
    netloc = f"{user}:{urllib.parse.quote(password, safe='')}@{host}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class DatabasePlan:
    project: Project
    source_kind: StoreKind
    source: Path
    """The folder store or the SQLite file."""
    url: str = field(repr=False)
    """The database URL, password included: never shown (use :attr:`target`)."""
    registry: Path | None
    """The launcher's registry folder for a folder store without ``models/``."""
    artifacts: str
    """The project's artifacts location after the move (required)."""
    workspace: str = ""
    """Into this new workspace of a database that may hold others (``gather``); '' for the
    whole, empty database (``move --to``)."""

    @property
    def target(self) -> str:
        return redact(self.url)


def suggest_artifacts(project: Project) -> str | None:
    """Where this store's artifacts already live: a folder store's own folder; for SQLite, the
    folder most experiments' artifact locations share (read read-only)."""
    try:
        store = project.parsed_store()
    except StoreError:
        return None
    if store.kind is StoreKind.FOLDER:
        return store.path
    if store.kind is not StoreKind.SQLITE or not store.path:
        return None
    try:
        conn = sqlite3.connect(f"{Path(store.path).absolute().as_uri()}?mode=ro", uri=True)
        try:
            rows = [r for (r,) in conn.execute("SELECT artifact_location FROM experiments") if r]
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    parents = Counter(_parent(r) for r in rows if not r.startswith("mlflow-artifacts:"))
    return parents.most_common(1)[0][0] if parents else None


def _parent(location: str) -> str:
    if location.startswith("file://"):
        location = urllib.parse.unquote(urllib.parse.urlsplit(location).path)
    return str(PurePath(location).parent)


def plan(
    project: Project,
    paths: AppPaths,
    url: str,
    *,
    password: str | None = None,
    artifacts: str | None = None,
    workspace: str = "",
) -> DatabasePlan:
    """Check the move can start (no writes, no connection yet: the child checks the target).

    With ``workspace`` (``gather``) the target may also be a SQLite file."""
    try:
        store = project.parsed_store()
        target = parse_store(url)
    except StoreError as exc:
        raise MoveError(str(exc)) from exc
    sqlite_ok = bool(workspace) and target.kind is StoreKind.SQLITE
    if not sqlite_ok and (target.kind is not StoreKind.SQL or not is_database_url(target.uri)):
        raise MoveError(f"{redact(url)} is not a PostgreSQL or MySQL database URL.")
    if store.kind not in (StoreKind.FOLDER, StoreKind.SQLITE) or store.path is None:
        raise MoveError(
            f"{project.name!r} is a {store.kind.label}: only folder and SQLite stores are moved."
        )
    source = Path(store.path)
    if store.kind is StoreKind.FOLDER and not source.is_dir():
        raise MoveError(f"The folder store {source} does not exist or cannot be reached.")
    if store.kind is StoreKind.SQLITE and not source.is_file():
        raise MoveError(f"The SQLite store {source} does not exist or cannot be reached.")
    # Pre-filled with where the artifacts already are: the database keeps pointing there.
    where = (artifacts or project.artifacts or suggest_artifacts(project) or "").strip()
    if not where:
        raise ArtifactsRequired(
            "A team database needs an artifacts location colleagues can reach (artifacts are "
            "not copied, and where they are now could not be read). Give it with --artifacts DIR.",
            None,
        )
    registry = None
    own_registry = paths.registry_dir(project.slug)
    folder = store.kind is StoreKind.FOLDER
    if folder and not (source / "models").is_dir() and (own_registry / "models").is_dir():
        registry = own_registry
    return DatabasePlan(
        project, store.kind, source, with_password(target.uri, password), registry, where, workspace
    )


@dataclass
class DatabaseResult:
    plan: DatabasePlan
    tables: dict[str, int]
    """Rows per table in the database after the commit (compared with the SQLite side)."""
    differences: list[str]
    seconds: float
    folder_check: verify.Verification | None = None
    """The folder -> temporary SQLite check, for a folder store."""
    renumbered: dict[str, int] = field(default_factory=dict)
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        folder_ok = self.folder_check is None or self.folder_check.ok
        return folder_ok and not self.differences

    def counts(self) -> dict[str, int]:
        counts = {table: self.tables.get(table, 0) for _, table in record_kinds.KINDS}
        if self.folder_check is not None and record_kinds.SPANS in self.folder_check.kinds:
            counts[record_kinds.SPANS] = self.folder_check.kinds[record_kinds.SPANS]
        return counts

    def report(self) -> str:
        p = self.plan
        if self.ok:
            lines = [
                f"Moved {p.source} to {p.target} in {self.seconds:.1f} s, verified: "
                f"{record_kinds.describe(self.counts())} are the same in both "
                "(every table compared by row count and content)."
            ]
        else:
            lines = ["The database differs from the store; the project was not switched:"]
            lines += [f"  - {d}" for d in self.differences]
            if self.differences:  # found reading the commit back: the copy is in the database
                lines.append(f"The copy was committed: empty {p.target} before a new attempt.")
            if self.folder_check is not None:
                lines += [f"  - {d}" for d in self.folder_check.differences]
        if self.renumbered:
            pairs = ", ".join(f"{old} -> {new}" for old, new in self.renumbered.items())
            why = (
                "taken in the database or too large for its INTEGER column"
                if p.workspace
                else "too large for the database's INTEGER column"
            )
            lines.append(
                f"Experiment ids {why} were renumbered ({pairs}); links to those experiments "
                "change."
            )
        lines.append(
            f"The {_KIND_NAMES[p.source_kind]} store was only read. Artifacts were not copied: "
            f"they stay where they are; new ones go to {p.artifacts}."
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": str(self.plan.source),
            "target": self.plan.target,
            "seconds": round(self.seconds, 2),
            "kinds": self.counts(),
            "differences": self.differences
            + (self.folder_check.differences if self.folder_check else []),
            "renumbered": self.renumbered,
            "artifacts": self.plan.artifacts,
        }


def _child_env(the_plan: DatabasePlan) -> dict[str, str]:
    env = {protocol.TARGET_URL_VAR: the_plan.url}
    if the_plan.workspace:
        env[protocol.TARGET_WORKSPACE_VAR] = (
            the_plan.workspace
        )  # its artifact root: the server's default
    return env


def move(
    the_plan: DatabasePlan,
    paths: AppPaths,
    *,
    progress: Callable[[Step], None] | None = None,
    cancel: threading.Event | None = None,
) -> DatabaseResult:
    """Folder -> temporary SQLite (checked), then SQLite -> database (checked). Raises
    MoveError (``cause`` names a refusal) and MoveCancelled; the database is then
    as it was."""
    cancel = cancel or threading.Event()
    report = progress or (lambda step: None)
    log_path = log_path_of(paths, the_plan.project)
    started = time.monotonic()
    work = paths.data_dir / "stores" / the_plan.project.slug
    temp = work / f".team-move{PARTIAL_MARK}{os.getpid()}.db"
    folder_check = None
    try:
        if the_plan.source_kind is StoreKind.FOLDER:
            work.mkdir(parents=True, exist_ok=True)
            step = to_sqlite.Plan(the_plan.project, the_plan.source, temp, the_plan.registry, None)
            to_sqlite.convert(step, temp, log_path, report, cancel)
            report(Step("verify", 0, 0, "verifying: the folder against the temporary file"))
            try:
                folder_check = verify.verify(
                    the_plan.source, temp, registry=the_plan.registry, cancel=cancel
                )
            except verify.Cancelled as exc:
                raise MoveCancelled("Cancelled; the database was not changed.") from exc
            if not folder_check.ok:
                return DatabaseResult(the_plan, {}, [], time.monotonic() - started, folder_check)
            sqlite_file = temp
        else:
            sqlite_file = the_plan.source
        try:
            outcome = (
                run_child(
                    the_plan.project,
                    ["move-to-database", str(sqlite_file)],
                    log_path=log_path,
                    title=f"copying {sqlite_file} into {the_plan.target}",
                    report=report,
                    cancel=cancel,
                    env=_child_env(the_plan),
                    failed="The copy into the database stopped",
                )
                or {}
            )
        except MoveCancelled:
            raise MoveCancelled("Cancelled; the database was not changed.") from None
        except MoveError as exc:
            raise MoveError(
                f"{redact(str(exc))}; the database was not changed. Details: {log_path}",
                exc.cause,
            ) from None
        report(Step("done", 1, 1, "done"))
        return DatabaseResult(
            the_plan,
            {k: int(v) for k, v in outcome.get("tables", {}).items()},
            list(outcome.get("differences", [])) if outcome else ["no result from the copy"],
            time.monotonic() - started,
            folder_check,
            {k: int(v) for k, v in outcome.get("renumbered", {}).items()},
            log_path,
        )
    finally:
        remove_partial(temp)
