"""Reading a SQL store's schema revision, so no database is ever upgraded unasked.

MLflow's server upgrades an old database in place at start (alembic), which breaks every older
client sharing it. The launcher reads the revision first, read-only, and compares it with what
the serving MLflow expects.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

from launcher.model import credentials
from launcher.model.stores import Store, StoreKind
from launcher.server import spawn
from launcher.server.child import protocol
from launcher.server.python.environment import PythonEnv


class SchemaState(str, Enum):
    NOT_SQL = "not-sql"
    MISSING = "missing"
    """No database yet (a SQLite file that does not exist)."""
    EMPTY = "empty"
    """A database with no MLflow tables: serving would create them."""
    CURRENT = "current"
    OLDER = "older"
    """Behind the serving MLflow (or predating alembic): serving would upgrade it."""
    NEWER = "newer"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class SchemaCheck:
    state: SchemaState
    revision: str | None = None
    expected: str | None = None
    experiments: int | None = None
    tables: tuple[str, ...] = field(default_factory=tuple)
    error: str = ""

    @property
    def would_change_schema(self) -> bool:
        return self.state in (SchemaState.EMPTY, SchemaState.OLDER)


def sqlite_uri(path: str) -> str:
    """A read-only SQLite URI for any local, drive or UNC path."""
    forward = path.replace("\\", "/")
    if forward.startswith("//"):
        authority_and_path = "//" + forward  # file:////server/share/x.db: UNC for SQLite
    elif forward.startswith("/"):
        authority_and_path = "//" + forward  # file:///srv/x.db
    else:
        authority_and_path = "///" + forward  # file:///C:/x.db
    return "file:" + urllib.parse.quote(authority_and_path, safe="/:") + "?mode=ro"


def read_sqlite(path: str) -> tuple[str | None, tuple[str, ...], int | None]:
    """Revision, tables and active experiments of a SQLite store, opened read-only."""
    conn = sqlite3.connect(sqlite_uri(path), uri=True, timeout=10)
    try:
        tables = tuple(
            sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"))
        )
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        experiments = None
        if "experiments" in tables:
            try:
                experiments = conn.execute(
                    "SELECT COUNT(*) FROM experiments WHERE lifecycle_stage = 'active'"
                ).fetchone()[0]
            except sqlite3.Error:
                experiments = None  # a pre-alembic layout: the revision check says what matters
        return revision, tables, experiments
    finally:
        conn.close()


def store_env(store: Store, env: PythonEnv) -> dict[str, str]:
    """The environment of a child that opens ``store``: its URI and password, never the argv."""
    run_env = env.child_env(dict(os.environ))
    run_env.update(credentials.database_env(store.uri))
    run_env[protocol.STORE_URI_VAR] = credentials.server_uri(store.uri)
    return run_env


def read_sql(store: Store, env: PythonEnv, timeout: float = 30) -> dict:
    """Ask the serving environment (which has the database driver) for the revision."""
    out = spawn.run(env.child_command("revision"), env=store_env(store, env), timeout=timeout)
    if out.returncode != 0:
        raise OSError(_child_error(out.stderr or out.stdout) or f"exit code {out.returncode}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _child_error(output: str) -> str:
    """The cause a failed child gave: its error line without the mark, else its last line.

    SQLAlchemy ends an error with a "(Background on this error at: URL)" line; the cause
    ("password authentication failed ...") is before it.
    """
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.startswith("(Background on this error")
    ]
    for line in reversed(lines):
        error = protocol.error_in(line)
        if error is not None:
            return error[1]
    return lines[-1] if lines else ""


def check(store: Store, env: PythonEnv) -> SchemaCheck:
    if not store.is_sql:
        return SchemaCheck(SchemaState.NOT_SQL)
    expected = env.head
    try:
        if store.kind is StoreKind.SQLITE:
            assert store.path is not None
            if not Path(store.path).exists():
                return SchemaCheck(SchemaState.MISSING, expected=expected)
            revision, tables, experiments = read_sqlite(store.path)
        else:
            info = read_sql(store, env)
            revision, experiments = info.get("revision"), info.get("experiments")
            tables = tuple(info.get("tables", ()))
    except (OSError, sqlite3.Error, subprocess.TimeoutExpired, ValueError) as exc:
        return SchemaCheck(SchemaState.UNREADABLE, expected=expected, error=str(exc))
    mlflow_tables = [t for t in tables if not t.startswith("alembic_")]
    if revision is None:
        state = SchemaState.OLDER if mlflow_tables else SchemaState.EMPTY
    elif revision in env.heads:
        state = SchemaState.CURRENT
    elif revision in env.revisions:
        state = SchemaState.OLDER
    else:
        state = SchemaState.NEWER
    return SchemaCheck(state, revision, expected, experiments, tables)


def explain(check: SchemaCheck, store: Store, env: PythonEnv, project_name: str) -> str:
    """Plain words for a schema the launcher will not serve without being asked."""
    who = f"MLflow {env.mlflow}"
    if check.state is SchemaState.NEWER:
        return (
            f"The database {store.display} is at schema revision {check.revision}, which "
            f"{who} does not know: it was written by a newer MLflow. Choose a Python environment "
            "with that newer MLflow for this project."
        )
    if check.state is SchemaState.EMPTY:
        return (
            f"The database {store.display} holds no MLflow tables; serving it would create them. "
            f"If that is what you want, serve it with --upgrade-schema "
            f"(mlflow-launcher serve {project_name!r} --upgrade-schema)."
        )
    found = check.revision or "a version before schema tracking"
    return (
        f"The database {store.display} is at schema revision {found}; {who} needs "
        f"{check.expected}. Serving it would upgrade the schema in place, and from then on every "
        f"older MLflow that uses this database (colleagues' scripts, CI jobs, other servers) "
        f"fails until it is upgraded too. The launcher left it untouched. To upgrade on purpose, "
        f"serve it with --upgrade-schema (mlflow-launcher serve {project_name!r} "
        f"--upgrade-schema; a SQLite file is copied aside first), or pick a Python environment "
        "whose MLflow matches the database."
    )


def backup_sqlite(path: str, revision: str | None) -> Path:
    """Copy a SQLite store aside before an opted-in upgrade; the copy sits beside it."""
    src = Path(path)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = src.with_name(f"{src.name}.{revision or 'unversioned'}.{stamp}.bak")
    shutil.copy2(src, dest)
    return dest


def run_upgrade(store: Store, env: PythonEnv, cwd: str) -> tuple[int, list[str]]:
    """Upgrade ``store``'s schema in the serving environment (only ever on explicit request).

    Returns the exit code and every line it wrote, for the server's log.
    """
    proc = spawn.run(
        env.child_command("upgrade"), env=store_env(store, env), cwd=cwd, merge_stderr=True
    )
    return proc.returncode, proc.stdout.splitlines()
