"""Moving a SQLite MLflow store into a team database: ``commands.py move-to-database``.

Runs inside the project's Python environment (it has MLflow, SQLAlchemy and the database
driver), so like every module here it imports only the standard library at module level.

Why this shape:
- ``mlflow.store.fs2db`` writes SQLite only, so a folder store is first converted to a temporary
  SQLite file (``to_sqlite.py``) and this module copies that file (or a SQLite store, opened
  read-only) into the database.
- - The target's URL, password included, comes from the environment variable
  ``protocol.TARGET_URL_VAR``, never from argv, and is never printed: every message goes through
  :func:`_redact`.
- The target is checked before anything is written: reachable, password accepted, no MLflow table
  holding rows, any existing MLflow schema at this MLflow's alembic head, and the source at that
  same head.
- - Schema creation (``_initialize_tables``' two steps: ``create_all`` and alembic's upgrade) and
  every row are written on ONE connection in ONE transaction, checked table by table (row count and
  content hash) before the commit. On PostgreSQL DDL is transactional, so a failure or a killed
  process leaves the database exactly as it was. The commit waits for the launcher's go-ahead
  (``stdin_pipe.Commit``), so a cancel comes before it or not at all. MySQL commits DDL implicitly:
  there the tables this run created are dropped again on a failure (a SIGKILL in that window can
  leave empty tables at the head revision, which a new attempt accepts).
- Folder-store experiment ids are 18-digit numbers; ``experiments.experiment_id`` is a 32-bit
  INTEGER on PostgreSQL and MySQL. Ids that do not fit are renumbered (after the largest that
  fits, in creation order) in every ``experiment_id`` column, and the mapping is reported.
- PostgreSQL sequences behind the integer ids are set past the copied ids (``setval``), so the
  next experiment MLflow creates does not collide.

Into a workspace of a database that may hold others (``gather``): ``into_workspace.py``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from .. import protocol, stdin_pipe
from . import into_workspace, table_hash

_INT32_MAX = 2_147_483_647
_BATCH = 500


class Refused(Exception):
    """The target cannot take the copy; ``kind`` is the named cause the launcher shows."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _redact(text: str, url: str) -> str:
    text = re.sub(r"(://[^:/@\s]+:)[^@/\s]*@", r"\1***@", text)
    password = _password(url)
    return text.replace(password, "***") if password else text


def _password(url: str) -> str:
    import urllib.parse

    try:
        return urllib.parse.unquote(urllib.parse.urlsplit(url).password or "")
    except ValueError:
        return ""


def classify(exc: BaseException) -> str:
    """A connection failure's named cause from the driver's message (PostgreSQL and MySQL)."""
    text = str(exc).lower()
    if isinstance(exc, ImportError) or "no module named" in text:
        return "target-driver"
    if "unique constraint" in text or "duplicate key" in text or "duplicate entry" in text:
        return "target-duplicate"
    if "password authentication failed" in text or "access denied" in text:
        return "target-auth"
    if ("does not exist" in text and "database" in text) or "unknown database" in text:
        return "target-no-database"
    if any(
        s in text
        for s in (
            "connection refused",
            "could not translate host",
            "name or service not known",
            "timeout",
            "timed out",
            "can't connect",
            "no route to host",
            "could not connect",
        )
    ):
        return "target-unreachable"
    return "target-failed"


def _engine(url: str) -> Any:
    import sqlalchemy

    kwargs: dict[str, Any] = {"poolclass": sqlalchemy.pool.NullPool}
    if url.startswith("postgresql") or url.startswith(("mysql", "mariadb")):
        kwargs["connect_args"] = {"connect_timeout": 10}
    return sqlalchemy.create_engine(url, **kwargs)


def _source_engine(path: str) -> Any:
    import sqlalchemy

    uri = "sqlite:///file:" + path.replace("\\", "/") + "?mode=ro&uri=true"
    return sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)


def _revision(conn: Any) -> str | None:
    import sqlalchemy

    if "alembic_version" not in sqlalchemy.inspect(conn).get_table_names():
        return None
    row = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def check_target(conn: Any, head: str, workspace: str = "") -> bool:
    """Refuse a target holding MLflow data (with ``workspace``: that workspace) or another
    schema; True when the schema is there."""
    import sqlalchemy
    from mlflow.store.db.utils import Base

    tables = set(sqlalchemy.inspect(conn).get_table_names())
    ours = (set(Base.metadata.tables) | {"alembic_version"}) & tables
    if not ours:
        return False
    revision = _revision(conn)
    if revision != head:
        raise Refused(
            "target-schema",
            f"the database already holds MLflow tables at schema revision {revision}, not this "
            f"MLflow's {head}; "
            + (
                "upgrade it first (mlflow db upgrade URL)" if workspace else "use an empty database"
            ),
        )
    if workspace:
        if into_workspace.taken(conn, workspace):
            raise Refused(
                "workspace-exists",
                f"the database already has a workspace {workspace!r}; gather only creates new "
                "workspaces (pick another name, or remove that workspace first)",
            )
        return True
    for table in sorted(ours - {"alembic_version"} - table_hash.SEEDED):
        if conn.execute(sqlalchemy.text(f"SELECT 1 FROM {table} LIMIT 1")).first():
            raise Refused(
                "target-not-empty",
                f"the database already holds MLflow data (table {table} has rows); the move "
                "only writes into an empty database",
            )
    return True


def _create_schema(conn: Any) -> None:
    """``_initialize_tables(engine)``'s two steps on this connection, inside its transaction.

    MLflow's alembic ``env.py`` opens its own connection from ``config.attributes["connection"]``
    ``.engine``; handing it a stand-in whose ``connect()`` yields this connection keeps the
    upgrade in the copy's transaction.
    """
    import contextlib

    from alembic import command
    from mlflow.store.db.utils import InitialBase, _get_alembic_config

    class _Shared:
        def __init__(self) -> None:
            self.engine = self

        def connect(self) -> Any:
            return contextlib.nullcontext(conn)

    InitialBase.metadata.create_all(conn)
    config = _get_alembic_config(conn.engine.url.render_as_string(hide_password=True))
    config.attributes["connection"] = _Shared()
    command.upgrade(config, "heads")


def experiment_id_map(source: Any, dialect: str) -> dict[int, int]:
    """New ids for experiment ids a 32-bit INTEGER column cannot hold (none on SQLite)."""
    import sqlalchemy

    if dialect == "sqlite":
        return {}
    rows = source.execute(
        sqlalchemy.text("SELECT experiment_id, creation_time FROM experiments")
    ).all()
    small = [int(r[0]) for r in rows if int(r[0]) <= _INT32_MAX]
    big = sorted((r[1] or 0, int(r[0])) for r in rows if int(r[0]) > _INT32_MAX)
    start = max(small, default=0) + 1
    return {old: start + i for i, (_, old) in enumerate(big)}


def _tables(conn: Any) -> list[Any]:
    """The target's tables in foreign-key order, parents first (alembic's own table left out)."""
    import sqlalchemy

    meta = sqlalchemy.MetaData()
    meta.reflect(conn)
    return [t for t in meta.sorted_tables if t.name != "alembic_version"]


def _copy_rows(source: Any, target: Any, ids: dict[int, int], workspace: str = "") -> None:
    import sqlalchemy

    remap = table_hash.remap

    source_meta = sqlalchemy.MetaData()
    source_meta.reflect(source)
    tables = _tables(target)
    if not workspace:
        for table in reversed(tables):  # rows the schema's migrations seed (default workspace)
            target.execute(table.delete())
    for index, table in enumerate(tables):
        protocol.progress("copy", index, len(tables), f"copying {table.name}")
        if table.name not in source_meta.tables or (workspace and table.name in table_hash.SEEDED):
            continue
        # A generated column (spans.duration_ns) is computed by the database, never written.
        columns = [c.name for c in table.columns if c.computed is None]
        batch: list[dict[str, Any]] = []
        for row in source.execute(sqlalchemy.select(source_meta.tables[table.name])).mappings():
            batch.append(remap({c: row[c] for c in columns if c in row}, ids, workspace))
            if len(batch) >= _BATCH:
                target.execute(table.insert(), batch)
                batch = []
        if batch:
            target.execute(table.insert(), batch)
    protocol.progress("copy", len(tables), len(tables), "copied")


def reset_sequences(conn: Any) -> None:
    """PostgreSQL: every serial/identity sequence past the largest id copied into its table."""
    import sqlalchemy

    if conn.dialect.name != "postgresql":
        return
    rows = conn.execute(
        sqlalchemy.text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND (column_default LIKE 'nextval(%' "
            "OR is_identity = 'YES')"
        )
    ).all()
    for table, column in rows:
        conn.execute(
            sqlalchemy.text(
                f'SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX("{column}"), 0) + 1, '
                f'false) FROM "{table}"'
            ),
            {"t": table, "c": column},
        )


def move(source_path: str, go: stdin_pipe.Commit | None = None) -> int:
    """Copy the SQLite file ``source_path`` into the database named in the environment.

    ``go``: the launcher's go-ahead to commit (none when run by hand)."""
    url = os.environ.get(protocol.TARGET_URL_VAR, "")
    try:
        return _copy(source_path, url, go)
    except Refused as exc:
        protocol.error(exc.kind, _redact(str(exc), url))
        return protocol.EXIT_MOVE_REFUSED
    except Exception as exc:
        protocol.error(classify(exc), _redact(f"{type(exc).__name__}: {exc}", url))
        return protocol.EXIT_MOVE_FAILED


def _copy(source_path: str, url: str, go: stdin_pipe.Commit | None) -> int:
    import sqlalchemy
    from mlflow.store.db.utils import _get_latest_schema_revision

    if not url:
        raise Refused("target-missing", f"no database URL in {protocol.TARGET_URL_VAR}")
    workspace = os.environ.get(protocol.TARGET_WORKSPACE_VAR, "")
    head = _get_latest_schema_revision()
    source_engine = _source_engine(source_path)
    target_engine = _engine(url)
    try:
        with source_engine.connect() as source:
            revision = _revision(source)
            if revision != head:
                raise Refused(
                    "source-schema",
                    f"the SQLite store is at schema revision {revision}, this MLflow's is "
                    f"{head}: upgrade it first (mlflow-launcher doctor NAME --upgrade)",
                )
            if workspace and (odd := into_workspace.unsupported(source)):
                raise Refused(
                    "source-unsupported",
                    f"the store has rows in {', '.join(odd)}, whose database-wide ids gather "
                    "does not renumber; move this store alone (move --to)",
                )
            try:
                conn = target_engine.connect()
            except sqlalchemy.exc.SQLAlchemyError as exc:
                raise Refused(
                    classify(exc), _redact(str(getattr(exc, "orig", None) or exc), url)
                ) from exc
            with conn:
                if workspace:
                    had_schema = check_target(conn, head, workspace)
                    ids = (
                        into_workspace.id_map(source, conn, target_engine.dialect.name)
                        if had_schema
                        else experiment_id_map(source, target_engine.dialect.name)
                    )
                else:
                    had_schema = check_target(conn, head)
                    ids = experiment_id_map(source, target_engine.dialect.name)
                source_keys: dict[str, set[str]] = {}  # each row's key: its workspace's rows
                keys = source_keys if workspace else None
                expected = table_hash.fingerprint(source, ids, workspace, keys=keys)
                conn.rollback()  # the checks' implicit transaction; the copy gets its own
                created = False
                transaction = conn.begin()
                try:
                    if not had_schema:
                        protocol.progress("schema", 0, 0, f"creating MLflow's schema ({head})")
                        _create_schema(conn)
                        created = True
                    if workspace:
                        into_workspace.create(conn, workspace)
                    _copy_rows(source, conn, ids, workspace)
                    reset_sequences(conn)
                    protocol.progress("verify", 0, 0, "verifying: comparing every table")
                    only = source_keys if workspace else None
                    problems = table_hash.differences(
                        expected, table_hash.fingerprint(conn, only=only)
                    )
                    if problems:
                        raise Refused("copy-differs", "; ".join(problems[:10]))
                    if go is not None:
                        go.ask()
                    transaction.commit()
                except BaseException:
                    transaction.rollback()
                    if created and conn.dialect.name != "postgresql":
                        _drop_created(conn)
                    raise
        with target_engine.connect() as check:  # a fresh read of what was committed
            stored = table_hash.fingerprint(check, only=source_keys if workspace else None)
        problems = table_hash.differences(expected, stored)
        result = {
            "tables": {name: stored.get(name, [0, ""])[0] for name in expected},
            "differences": problems,
            "revision": head,
            "renumbered": {str(k): v for k, v in ids.items()},
            "workspace": workspace,
        }
        protocol.result(result)
        return 0  # committed: a difference read back is reported with the counts, not raised
    finally:
        source_engine.dispose()
        target_engine.dispose()


def _drop_created(conn: Any) -> None:
    """Where DDL is not transactional (MySQL): remove the tables this run created."""
    import sqlalchemy

    meta = sqlalchemy.MetaData()
    meta.reflect(conn)
    meta.drop_all(conn)
    conn.commit()
