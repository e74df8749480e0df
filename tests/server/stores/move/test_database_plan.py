"""Planning a move to a team database: which ``--to`` is a database, the password put into the
URL (quoted, never shown), the artifacts location pre-filled from where the artifacts are, and
the stores that cannot be moved. No database is reached here (the child checks the target)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.stores import record_kinds
from launcher.server.stores.move import to_database
from launcher.server.stores.move.child_run import MoveError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u@h:5432/db", True),
        ("postgresql+psycopg2://u@h/db", True),
        ("postgres://u@h/db", True),
        ("mysql+pymysql://u@h/db", True),
        ("/data/new.db", False),
        ("sqlite:///x.db", False),
        (None, False),
    ],
)
def test_is_database_url(text: str | None, expected: bool) -> None:
    assert to_database.is_database_url(text) is expected


def test_password_is_quoted_into_the_url_and_never_shown(tmp_path: Path, paths: AppPaths) -> None:
    url = to_database.with_password("postgresql://ann@db:5432/team", "p@ss:w/rd")
    assert url == "postgresql://ann:p%40ss%3Aw%2Frd@db:5432/team"
    assert to_database.with_password("postgresql://ann:kept@db/team", "other").endswith(
        ":kept@db/team"
    )
    store = tmp_path / "mlruns"
    store.mkdir()
    the_plan = to_database.plan(
        Project("team", str(store)), paths, "postgresql://ann@db:5432/team", password="s3cret!"
    )
    assert "s3cret" in the_plan.url
    assert the_plan.target == "postgresql://ann:***@db:5432/team"
    assert "s3cret" not in repr(the_plan)
    assert the_plan.artifacts == str(store), "pre-filled with the folder store itself"


def test_sqlite_artifacts_are_where_its_experiments_keep_them(
    tmp_path: Path, paths: AppPaths
) -> None:
    db = tmp_path / "team.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE experiments (experiment_id INTEGER, artifact_location TEXT)")
    conn.executemany(
        "INSERT INTO experiments VALUES (?, ?)",
        [(0, "/share/art/0"), (1, "file:///share/art/1"), (2, "mlflow-artifacts:/2")],
    )
    conn.commit()
    conn.close()
    project = Project("team", str(db))
    assert to_database.suggest_artifacts(project) == "/share/art"
    chosen = to_database.plan(project, paths, "postgresql://u:p@h/db", artifacts="/elsewhere")
    assert chosen.artifacts == "/elsewhere", "--artifacts wins over the suggestion"


def test_what_cannot_be_moved_is_refused(tmp_path: Path, paths: AppPaths) -> None:
    store = tmp_path / "mlruns"
    store.mkdir()
    with pytest.raises(MoveError, match="not a PostgreSQL or MySQL"):
        to_database.plan(Project("a", str(store)), paths, "mssql://u@h/db")
    with pytest.raises(MoveError, match="only folder and SQLite stores"):
        to_database.plan(Project("b", "http://127.0.0.1:5000"), paths, "postgresql://u@h/db")
    with pytest.raises(MoveError, match="does not exist"):
        to_database.plan(Project("c", str(tmp_path / "gone")), paths, "postgresql://u@h/db")


def test_every_kind_is_described_in_order() -> None:
    counts = {table: 0 for _, table in record_kinds.KINDS} | {"runs": 1200, record_kinds.SPANS: 3}
    text = record_kinds.describe(counts)
    assert text.startswith("0 experiments, 0 experiment tags, 1,200 runs, 0 params")
    assert "0 spans," not in text, "a folder's spans are counted in its artifacts instead"
    assert text.endswith("0 aliases, 3 spans (in the traces' artifacts)")
