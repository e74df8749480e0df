"""Every table of an MLflow store as a row count and a hash of its rows: how a copy is checked.

Loaded by ``copy_db.py`` beside it; standard library only at import. The hash is independent of
each dialect's spelling of types (normalised values, sorted rows). ``remap`` gives a source's row
as the copy writes it (experiment ids renumbered, the workspace set), so the source's hash is
the one the target must show.
"""

from __future__ import annotations

import hashlib
from typing import Any

SEEDED = {"workspaces"}
"""Tables MLflow's migrations fill themselves (the default workspace): not user data."""


def remap(row: dict[str, Any], ids: dict[int, int], workspace: str = "") -> dict[str, Any]:
    if workspace and "workspace" in row:
        row = {**row, "workspace": workspace}
    if not ids or "experiment_id" not in row or row["experiment_id"] is None:
        return row
    old = int(row["experiment_id"])
    if old in ids:
        new = ids[old]
        row = {**row, "experiment_id": str(new) if isinstance(row["experiment_id"], str) else new}
    return row


def norm(value: Any) -> str:
    if isinstance(value, bool):
        return "b1" if value else "b0"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "x" + bytes(value).hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return repr(value)


def fingerprint(
    conn: Any,
    ids: dict[int, int] | None = None,
    workspace: str = "",
    keys: dict[str, set[str]] | None = None,
    only: dict[str, set[str]] | None = None,
) -> dict[str, list[Any]]:
    """Per table: [row count, sha256 of its sorted, normalised rows], independent of types'
    spelling in each dialect; with ``ids`` the source's experiment ids as they were renumbered
    and ``workspace`` its rows' workspace. ``keys`` collects each row's primary key (the
    source's); ``only`` keeps the rows whose key it holds (the target's rows of one workspace)."""
    import sqlalchemy

    meta = sqlalchemy.MetaData()
    meta.reflect(conn)
    out: dict[str, list[Any]] = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version" or (workspace and table.name in SEEDED):
            continue
        names = sorted(c.name for c in table.columns)
        key_names = [c.name for c in table.primary_key.columns] or names
        wanted = None if only is None else only.get(table.name, set())
        seen = None if keys is None else keys.setdefault(table.name, set())
        lines = []
        for row in conn.execute(sqlalchemy.select(table)).mappings():
            mapped = remap(dict(row), ids or {}, workspace)
            key = "\x1f".join(norm(mapped[n]) for n in key_names)
            if wanted is not None and key not in wanted:
                continue
            if seen is not None:
                seen.add(key)
            lines.append("\x1f".join(f"{n}={norm(mapped[n])}" for n in names))
        lines.sort()
        digest = hashlib.sha256("\x1e".join(lines).encode("utf-8")).hexdigest()
        out[table.name] = [len(lines), digest]
    return out


def differences(source: dict[str, list[Any]], target: dict[str, list[Any]]) -> list[str]:
    out = []
    for name, (count, digest) in sorted(source.items()):
        other = target.get(name)
        if other is None:
            out.append(f"table {name} is missing from the database")
        elif other[0] != count:
            out.append(f"table {name}: {count} rows in the source, {other[0]} in the database")
        elif other[1] != digest:
            out.append(f"table {name}: the same {count} rows, but their contents differ")
    return out
