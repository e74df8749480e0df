"""The MLflow workspaces a database or a team server holds: what ``add`` and ``discover`` offer
as projects (a project can be one workspace, ``Project.workspace``).

A SQLite file is read directly (read-only); a server is asked over REST
(``GET /ajax-api/3.0/mlflow/workspaces``, its login and pinned certificate as for every call);
PostgreSQL and MySQL through their driver when the launcher has it (SQLAlchemy, as MLflow does).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from launcher.model import credentials
from launcher.model.stores import StoreError, StoreKind, parse_store
from launcher.server import rest
from launcher.server.stores import schema

WORKSPACES_API = "/ajax-api/3.0/mlflow/workspaces"


class WorkspacesUnknown(Exception):
    """The store's workspaces cannot be listed; the message says why."""


def of_store(text: str, timeout: float = 10.0) -> list[str]:
    """The workspace names of a SQLite file, a database or a server, sorted; ``default`` is left
    out of a store (it holds what was there before workspaces), kept for a server."""
    try:
        store = parse_store(text)
    except StoreError as exc:
        raise WorkspacesUnknown(str(exc)) from exc
    if store.kind is StoreKind.REMOTE:
        return of_server(store.uri, timeout)
    if store.kind is StoreKind.SQLITE and store.path:
        return _of_sqlite(store.path)
    if store.kind is StoreKind.SQL:
        return _of_database(store.uri)
    raise WorkspacesUnknown(f"{store.display} is a folder store: it has no workspaces")


def of_server(url: str, timeout: float = 10.0) -> list[str]:
    try:
        data = rest.get_json(rest._api(url, WORKSPACES_API), timeout)
    except (OSError, ValueError) as exc:
        raise WorkspacesUnknown(f"the server did not list its workspaces ({exc})") from exc
    names = [w.get("name") for w in data.get("workspaces", []) if isinstance(w, dict)]
    return sorted(n for n in names if isinstance(n, str))


def _of_sqlite(path: str) -> list[str]:
    if not Path(path).is_file():
        raise WorkspacesUnknown(f"{path} does not exist")
    conn = sqlite3.connect(schema.sqlite_uri(path), uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT name FROM workspaces").fetchall()
    except sqlite3.Error as exc:
        raise WorkspacesUnknown(f"{path} has no workspaces ({exc})") from exc
    finally:
        conn.close()
    return sorted(str(r[0]) for r in rows if r[0] != "default")


def _of_database(uri: str) -> list[str]:
    try:
        import sqlalchemy
    except ImportError as exc:
        raise WorkspacesUnknown("listing a database's workspaces needs SQLAlchemy") from exc
    url = uri
    if credentials.split(uri)[1] is None and (secret := credentials.password_for(uri)):
        url = credentials.with_password(uri, secret)
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT name FROM workspaces")).all()
    except Exception as exc:  # the driver's own errors: missing module, refused login...
        raise WorkspacesUnknown(f"the database did not list its workspaces ({exc})") from exc
    finally:
        engine.dispose()
    return sorted(str(r[0]) for r in rows if r[0] != "default")
