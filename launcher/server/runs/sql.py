"""A SQL store's runs (SQLite, PostgreSQL, MySQL): one query per poll, read-only.

The query asks for the active runs and those that ended since the last look, with their latest
metrics (MLflow keeps them in ``latest_metrics``, joined through its ``run_uuid`` index). MLflow
has no index on a run's status or end time, so the database scans ``runs``, a table of small
rows; the launcher never adds one (nothing is written to a store). SQLite is opened with
``mode=ro``; a PostgreSQL session is made read-only before its first query; MySQL's transaction
is read-only too. The drivers are imported on first use, in the watcher's thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

from launcher.model import credentials
from launcher.model.runs.events import Metric, RunInfo
from launcher.model.stores import Store, StoreKind
from launcher.server.stores import schema

QUERY = """
SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, r.experiment_id, e.name,
       m.key, m.value, m.step, m.timestamp
FROM runs r
JOIN experiments e ON e.experiment_id = r.experiment_id
LEFT JOIN latest_metrics m ON m.run_uuid = r.run_uuid
WHERE r.lifecycle_stage = 'active'
  AND (r.status IN ('RUNNING', 'SCHEDULED') OR r.end_time >= {param}){workspace}
"""
IN_WORKSPACE = "\n  AND e.workspace = {param}"
"""A workspace project's runs only (a store from before workspaces has no such column: its
query fails and the project is reported unreachable, which names the error)."""
CONNECT_TIMEOUT = 10


class SqlRuns:
    """One SQL store's runs. PostgreSQL and MySQL keep their connection between polls."""

    def __init__(self, store: Store, project: str, prefix: str = "", workspace: str = "") -> None:
        self.store = store
        self.workspace = workspace
        self.project = project
        self.prefix = prefix
        self.queries = 0
        self._conn: Any = None

    def poll(self, since_ms: int) -> list[RunInfo]:
        """Every active run, and every run that ended at or after ``since_ms``.

        Raises OSError when the database cannot be reached or read.
        """
        self.queries += 1
        try:
            if self.store.kind is StoreKind.SQLITE:
                rows = self._sqlite(since_ms)
            else:
                rows = self._server(since_ms)
        except OSError:
            raise
        except Exception as exc:  # every driver has its own error classes
            self.close()
            raise OSError(f"{self.store.display}: {exc}") from exc
        return runs_from_rows(rows, self.project, self.prefix)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _sqlite(self, since_ms: int) -> list[tuple[Any, ...]]:
        assert self.store.path is not None
        path = Path(self.store.path)
        if not path.exists() and path.parent.is_dir():
            return []  # no database yet: no runs (a folder that is gone is unreachable)
        conn = sqlite3.connect(schema.sqlite_uri(self.store.path), uri=True, timeout=5)
        try:
            return conn.execute(*self._query("?", since_ms)).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []  # an empty database: MLflow makes its tables at its first use
            raise OSError(f"{self.store.path}: {exc}") from exc
        except sqlite3.Error as exc:
            raise OSError(f"{self.store.path}: {exc}") from exc
        finally:
            conn.close()

    def _query(self, param: str, since_ms: int) -> tuple[str, tuple[Any, ...]]:
        if not self.workspace:
            return QUERY.format(param=param, workspace=""), (since_ms,)
        where = IN_WORKSPACE.format(param=param)
        return QUERY.format(param=param, workspace=where), (since_ms, self.workspace)

    def _server(self, since_ms: int) -> list[tuple[Any, ...]]:
        if self._conn is None:
            self._conn = connect(self.store.uri)
        cursor = self._conn.cursor()
        try:
            cursor.execute(*self._query("%s", since_ms))
            rows = list(cursor.fetchall())
        finally:
            cursor.close()
        if _is_mysql(self.store.uri):
            self._conn.rollback()  # end the read-only transaction: the next poll sees new rows
        return rows


def runs_from_rows(rows: list[tuple[Any, ...]], project: str, prefix: str) -> list[RunInfo]:
    """The query's rows (one per run and metric) as runs, metrics newest first."""
    runs: dict[str, dict[str, Any]] = {}
    for run_id, name, status, start, end, exp_id, exp_name, key, value, step, stamp in rows:
        if not str(exp_name).startswith(prefix):
            continue
        entry = runs.setdefault(
            run_id,
            {
                "project": project,
                "experiment_id": str(exp_id),
                "experiment": str(exp_name),
                "run_id": str(run_id),
                "name": name or "",
                "status": str(status),
                "start_time": int(start or 0),
                "end_time": int(end) if end else None,
                "metrics": [],
            },
        )
        if key is not None and value is not None:
            entry["metrics"].append(Metric(str(key), float(value), int(step or 0), int(stamp or 0)))
    return [
        RunInfo(
            **{**e, "metrics": tuple(sorted(e["metrics"], key=lambda m: (-m.timestamp, m.key)))}
        )
        for e in runs.values()
    ]


def _is_mysql(uri: str) -> bool:
    return urllib.parse.urlsplit(uri).scheme.split("+")[0] in ("mysql", "mariadb")


def connect(uri: str) -> Any:
    """A read-only connection to a PostgreSQL or MySQL store, its password from the credential
    store (never from the config or a log)."""
    parts = urllib.parse.urlsplit(credentials.server_uri(uri))
    dialect = parts.scheme.split("+")[0]
    password = parts.password or credentials.password_for(uri)
    database = urllib.parse.unquote(parts.path.lstrip("/"))
    user = urllib.parse.unquote(parts.username or "")
    if dialect in ("postgresql", "postgres"):
        import psycopg

        conn = psycopg.connect(
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            user=user or None,
            password=password,
            dbname=database,
            connect_timeout=CONNECT_TIMEOUT,
            autocommit=True,
        )
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        return conn
    if dialect in ("mysql", "mariadb"):
        import pymysql

        conn = pymysql.connect(
            host=parts.hostname or "localhost",
            port=parts.port or 3306,
            user=user,
            password=password or "",
            database=database,
            connect_timeout=CONNECT_TIMEOUT,
        )
        with conn.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
        return conn
    raise OSError(f"runs of a {dialect} store are not watched (PostgreSQL and MySQL are)")
