from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.model.stores import parse_store
from launcher.server.python import environment
from launcher.server.stores import schema
from tests.server import postgres


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("/srv/ml/mlflow.db", "file:///srv/ml/mlflow.db?mode=ro"),
        (r"C:\ml\my runs\mlflow.db", "file:///C:/ml/my%20runs/mlflow.db?mode=ro"),
        (r"\\server\share\ml\mlflow.db", "file:////server/share/ml/mlflow.db?mode=ro"),
        ("/srv/a#b?c.db", "file:///srv/a%23b%3Fc.db?mode=ro"),
    ],
)
def test_sqlite_uri_is_read_only_for_every_path_form(path: str, uri: str) -> None:
    assert schema.sqlite_uri(path) == uri


def test_check_states(tmp_path: Path) -> None:
    env = environment.resolve("")
    assert env.head is not None
    missing = parse_store(str(tmp_path / "none.db"))
    assert schema.check(missing, env).state is schema.SchemaState.MISSING
    assert not (tmp_path / "none.db").exists()

    def db(name: str, statements: list[str]) -> schema.SchemaCheck:
        path = tmp_path / name
        with sqlite3.connect(path) as conn:
            for statement in statements:
                conn.execute(statement)
        return schema.check(parse_store(str(path)), env)

    assert db("empty.db", []).state is schema.SchemaState.EMPTY
    pre_alembic = db("old.db", ["CREATE TABLE experiments (experiment_id INTEGER)"])
    assert pre_alembic.state is schema.SchemaState.OLDER and pre_alembic.would_change_schema
    version = "CREATE TABLE alembic_version (version_num VARCHAR(32))"
    newer = db("newer.db", [version, "INSERT INTO alembic_version VALUES ('ffffffffffff')"])
    assert newer.state is schema.SchemaState.NEWER and not newer.would_change_schema
    current = db("current.db", [version, f"INSERT INTO alembic_version VALUES ('{env.head}')"])
    assert current.state is schema.SchemaState.CURRENT
    (tmp_path / "garbage.db").write_bytes(b"not a database at all" * 100)
    garbage = schema.check(parse_store(str(tmp_path / "garbage.db")), env)
    assert garbage.state is schema.SchemaState.UNREADABLE and garbage.error


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    yield from postgres.scratch_database()


@pytest.mark.process
@pytest.mark.skipif(not postgres.ADMIN_URL, reason="LAUNCHER_TEST_POSTGRES is not set")
def test_an_empty_postgres_database_is_created_by_the_opted_in_upgrade(
    empty_postgres: str, tmp_path: Path
) -> None:
    """MLflow's first migration alters tables it expects; on an empty database the upgrade
    creates MLflow's initial tables first (as its own store does), then migrates to the head."""
    env = environment.resolve("")
    store = parse_store(empty_postgres)
    assert schema.check(store, env).state is schema.SchemaState.EMPTY
    code, lines = schema.run_upgrade(store, env, str(tmp_path))
    assert code == 0, "\n".join(lines[-15:])
    after = schema.check(store, env)
    assert after.state is schema.SchemaState.CURRENT and after.revision == env.head
    assert "experiments" in after.tables
