"""A real PostgreSQL for the tests that need one: a scratch database per test.

Set LAUNCHER_TEST_POSTGRES to a superuser URL of a running server (.ci/run starts one and sets
it); without it the tests that use :data:`MARKS` are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ADMIN_URL = os.environ.get("LAUNCHER_TEST_POSTGRES", "")
PASSWORD = ADMIN_URL.split("@", 1)[0].rsplit(":", 1)[-1] if "@" in ADMIN_URL else ""
MARKS = [
    pytest.mark.process,
    pytest.mark.skipif(not ADMIN_URL, reason="LAUNCHER_TEST_POSTGRES is not set (no PostgreSQL)"),
]


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def scratch_database() -> Iterator[str]:
    """A new empty database's URL (superuser), dropped afterwards: a fixture's body."""
    name = "launcher_" + uuid.uuid4().hex[:10]
    admin(f"CREATE DATABASE {name}")
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def table_rows(url: str) -> dict[str, int]:
    """Rows per table of the database (empty when it has no tables): what "unchanged" means."""
    import psycopg

    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]  # fmt: skip
        return {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}


def team_store(kind: str, tmp_path: Path) -> Iterator[str]:
    """A team store for a test: a SQLite file on this PC's disk ("sqlite"), or a scratch
    PostgreSQL database (skipped without one): a fixture's body."""
    if kind == "sqlite":
        yield "sqlite:///" + (tmp_path / "team" / "mlflow.db").as_posix()
        return
    if not ADMIN_URL:
        pytest.skip("LAUNCHER_TEST_POSTGRES is not set")
    yield from scratch_database()
