"""A SQLite store copied into a NEW workspace of a database that may hold others (``gather``).

Used by ``to_database.py`` when ``protocol.TARGET_WORKSPACE_VAR`` names the workspace; standard
library only at import. The target may hold other workspaces (and may be SQLite); only this
workspace must not exist yet. Every row goes in with its
``workspace`` column set to it, the workspace row is created, experiment ids that are taken in
the target (every store has a ``0``) or do not fit are renumbered after the largest id, and the
check compares the source's rows with the target's rows of the same keys (so other workspaces'
rows do not count). One transaction, as above: a cancel leaves no half-made workspace.
Rows in tables keyed by a database-wide integer id (jobs, rollups) are refused by name.
"""

from __future__ import annotations

from typing import Any

INT32_MAX = 2_147_483_647


def taken(conn: Any, workspace: str) -> bool:
    """Does the database have ``workspace`` already (its row, or experiments in it)?"""
    import sqlalchemy

    found = conn.execute(
        sqlalchemy.text("SELECT 1 FROM workspaces WHERE name = :w"), {"w": workspace}
    ).first()
    taken = (
        found
        or conn.execute(
            sqlalchemy.text("SELECT 1 FROM experiments WHERE workspace = :w LIMIT 1"),
            {"w": workspace},
        ).first()
    )
    return bool(taken)


def id_map(source: Any, target: Any, dialect: str) -> dict[int, int]:
    """New ids for the source's experiments whose ids the target has taken or cannot hold."""
    import sqlalchemy

    taken = {
        int(r[0]) for r in target.execute(sqlalchemy.text("SELECT experiment_id FROM experiments"))
    }
    rows = source.execute(
        sqlalchemy.text("SELECT experiment_id, creation_time FROM experiments")
    ).all()
    limit = INT32_MAX if dialect != "sqlite" else 2**63 - 1
    keep = {int(r[0]) for r in rows if int(r[0]) <= limit and int(r[0]) not in taken}
    move = sorted((r[1] or 0, int(r[0])) for r in rows if int(r[0]) not in keep)
    start = max(taken | keep, default=0) + 1
    return {old: start + i for i, (_, old) in enumerate(move)}


def unsupported(source: Any) -> list[str]:
    """Source tables with rows keyed by a database-wide integer id, which gather does not
    renumber (jobs, rollups): refused by name rather than merged wrong."""
    import sqlalchemy

    meta = sqlalchemy.MetaData()
    meta.reflect(source)
    out = []
    for table in meta.sorted_tables:
        keys = [c.name for c in table.primary_key.columns]
        if keys == ["id"] and source.execute(sqlalchemy.select(table).limit(1)).first():
            out.append(table.name)
    return out


def create(conn: Any, workspace: str) -> None:
    import sqlalchemy

    conn.execute(
        sqlalchemy.text(
            "INSERT INTO workspaces (name, description, default_artifact_root) VALUES (:n, :d, :r)"
        ),
        {"n": workspace, "d": "gathered by mlflow-launcher", "r": None},
    )
