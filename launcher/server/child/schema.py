"""A SQL store's schema, asked about (``revision``) or upgraded on request (``upgrade``).

Runs in the project's Python, which has the database driver and the MLflow whose schema counts;
the URI comes in the environment (``protocol.STORE_URI_VAR``), never in the argv. Standard
library only at module level.
"""

from __future__ import annotations

from typing import Any


def _engine(uri: str) -> Any:
    import sqlalchemy

    return sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)


def revision(uri: str) -> dict[str, Any]:
    """Read a SQL store's alembic revision: read-only, nothing is created."""
    import sqlalchemy

    engine = _engine(uri)
    try:
        with engine.connect() as conn:
            tables = sorted(sqlalchemy.inspect(conn).get_table_names())
            rev = None
            if "alembic_version" in tables:
                rows = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
                rev = next((r[0] for r in rows), None)
            experiments = None
            if "experiments" in tables:
                experiments = conn.execute(
                    sqlalchemy.text(
                        "SELECT COUNT(*) FROM experiments WHERE lifecycle_stage = 'active'"
                    )
                ).scalar()
        return {"revision": rev, "tables": tables, "experiments": experiments}
    finally:
        engine.dispose()


def upgrade(uri: str) -> int:
    try:
        from mlflow.store.db.utils import _upgrade_db
    except ImportError:
        # `mlflow db upgrade URI`, run in this process: the URI may carry a database password,
        # which a child's command line would show in every process list.
        from mlflow.db import commands

        try:
            commands.main(["upgrade", uri], prog_name="mlflow db", standalone_mode=False)
        except SystemExit as exc:
            return int(exc.code or 0) if not isinstance(exc.code, str) else 1
        return 0
    import sqlalchemy

    engine = _engine(uri)
    try:
        tables = sqlalchemy.inspect(engine).get_table_names()
        if any(not t.startswith("alembic_") for t in tables):
            _upgrade_db(engine)
        else:
            # An empty database: MLflow's first migration alters tables it expects to exist
            # ("relation metrics does not exist"), so its own store creates the initial tables
            # first, then migrates; do the same.
            from mlflow.store.db.utils import _initialize_tables

            _initialize_tables(engine)
    finally:
        engine.dispose()
    return 0
