"""Moving a folder store and a SQLite store, each written by the mlflow client with every record
kind, into a real PostgreSQL database: verified per kind, switched, and served by MLflow; and
what a non-empty target, another schema, a wrong password, an unreachable host and a cancel
leave behind (the target and the config as they were, with a named cause).

Needs a real PostgreSQL (``tests/server/postgres.py``); each test works in a database of its own.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from launcher.app.cli import run_cli
from launcher.app.commands.move.database import PASSWORD_ENV
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import rest
from launcher.server.process import MlflowServer
from launcher.server.stores import record_kinds
from launcher.server.stores.move import child_run, to_database
from tests.server import postgres
from tests.server.helpers import interrupt_when, start_cli
from tests.started import link

pytestmark = postgres.MARKS
PASSWORD = postgres.PASSWORD


@pytest.fixture
def database() -> Iterator[str]:
    yield from postgres.scratch_database()


def _kinds(url: str) -> dict[str, int]:
    counts = postgres.table_rows(url)
    return {table: counts.get(table, 0) for _, table in record_kinds.KINDS}


def _sqlite_kinds(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return record_kinds.sqlite_counts(conn)
    finally:
        conn.close()


def _served_by_mlflow(url: str) -> list[str]:
    """MLflow itself reads the moved store and creates a new experiment in it (sequences set)."""
    code = (
        "import sys, mlflow; c = mlflow.MlflowClient(sys.argv[1]); "
        "c.create_experiment('after-move'); "
        "print(sorted(e.name for e in c.search_experiments(view_type=3)))"
    )
    done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True,
                          timeout=180, check=True)  # fmt: skip
    return list(eval(done.stdout.strip().splitlines()[-1]))  # a printed list of names


def _config_bytes(paths: AppPaths) -> bytes:
    return ConfigStore(paths).path.read_bytes() if ConfigStore(paths).path.exists() else b""


def test_folder_store_moves_to_postgres(
    paths: AppPaths, rich_store: Path, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["add", "rich", str(rich_store)], paths) == 0
    assert run_cli(["move", "rich", "--to", database, "--switch", "--json"], paths) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out[captured.out.index("{") :])
    assert result["ok"] and not result["differences"]
    stored = _kinds(database)
    for table, count in stored.items():
        if table != "spans":
            assert result["kinds"][table] == count, table
    for table in ("experiment_tags", "inputs", "logged_model_params", "trace_info", "assessments",
                  "model_version_tags", "registered_model_aliases"):  # fmt: skip
        assert stored[table] >= 1, table
    assert stored["experiments"] == 4 and stored["runs"] == 8 and stored["model_versions"] == 2
    assert result["kinds"][record_kinds.SPANS] == 2, "spans are counted in the traces' artifacts"
    assert result["artifacts"] == str(rich_store), "pre-filled with where the artifacts are"
    assert f":{PASSWORD}@" not in captured.out + captured.err
    log = paths.log_dir / "moves"
    assert all(f":{PASSWORD}@" not in f.read_text(encoding="utf-8") for f in log.iterdir())
    config = ConfigStore(paths).load().config
    assert config.get("rich").store.startswith("postgresql://")
    assert config.get("rich").artifacts == str(rich_store)
    assert config.get("rich (folder)").store == str(rich_store)
    names = _served_by_mlflow(database)
    assert {"Default", "alpha", "beta", "gone", "after-move"} == set(names)


@pytest.fixture
def started_local(paths: AppPaths, rich_sqlite_template: Path, tmp_path: Path) -> Path:
    """A project "started-local" on a copy of the rich SQLite store (a team that began on
    SQLite)."""
    source = tmp_path / "local.db"
    source.write_bytes(rich_sqlite_template.read_bytes())
    assert run_cli(["add", "started-local", str(source)], paths) == 0
    return source


def _move(database: str, artifacts: Path | str, *more: str) -> list[str]:
    return ["move", "started-local", "--to", database, "--artifacts", str(artifacts), *more]


def test_sqlite_store_moves_to_postgres(
    paths: AppPaths,
    started_local: Path,
    tmp_path: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    servers: list,
) -> None:
    before = started_local.read_bytes()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)  # the URL names the user only
    user_only = database.replace(f":{PASSWORD}@", "@")
    shared = str(tmp_path / "shared")
    code = run_cli(_move(user_only, shared, "--switch"), paths)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert started_local.read_bytes() == before, "the SQLite store is only read"
    expected = _sqlite_kinds(started_local)
    assert _kinds(database) == expected
    assert expected["spans"] == 2 and expected["trace_info"] == 1 and expected["inputs"] == 1
    assert record_kinds.describe(expected) in captured.out
    assert f":{PASSWORD}@" not in captured.out + captured.err
    config = ConfigStore(paths).load().config
    assert config.get("started-local (sqlite)").store == str(started_local)
    assert config.get("started-local").artifacts == shared
    assert "after-move" in _served_by_mlflow(database)
    server = MlflowServer(config.get("started-local"), paths)  # the switched project, served
    servers.append(server)
    server.start()
    names = {e["name"] for e in rest.search_experiments(link(server))}
    assert {"Default", "alpha", "beta", "after-move"} <= names


def test_non_empty_target_is_refused_untouched(
    paths: AppPaths,
    started_local: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(_move(database, started_local.parent), paths) == 0
    before, config = postgres.table_rows(database), _config_bytes(paths)
    capsys.readouterr()
    assert run_cli(_move(database, started_local.parent, "--switch"), paths) == 1
    err = capsys.readouterr().err
    assert "[target-not-empty]" in err and "already holds MLflow data" in err
    assert postgres.table_rows(database) == before and _config_bytes(paths) == config


def test_other_schema_is_refused_untouched(
    paths: AppPaths,
    started_local: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('0123456789ab')")
    config = _config_bytes(paths)
    assert run_cli(_move(database, started_local.parent, "--switch"), paths) == 1
    err = capsys.readouterr().err
    assert "[target-schema]" in err and "0123456789ab" in err
    assert postgres.table_rows(database) == {"alembic_version": 1}
    assert _config_bytes(paths) == config


@pytest.mark.parametrize(
    ("change", "cause"),
    [(lambda url: url.replace(f":{PASSWORD}@", ":wrong-secret@"), "target-auth"),
     (lambda url: url.replace("@127.0.0.1:5432/", "@127.0.0.1:1/"), "target-unreachable")],
    ids=["wrong-password", "unreachable-host"],
)  # fmt: skip
def test_connection_failure_is_named_and_changes_nothing(
    paths: AppPaths,
    started_local: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[str], str],
    cause: str,
) -> None:
    config = _config_bytes(paths)
    assert run_cli(_move(change(database), started_local.parent, "--switch"), paths) == 1
    captured = capsys.readouterr()
    assert f"[{cause}]" in captured.err, captured.err
    secret = "wrong-secret" if cause == "target-auth" else f":{PASSWORD}@"
    assert secret not in captured.out + captured.err
    assert postgres.table_rows(database) == {} and _config_bytes(paths) == config


def test_cancel_leaves_the_target_empty(paths: AppPaths, rich_store: Path, database: str) -> None:
    """Cancelled while the copy's transaction is open (its schema being made, its rows to
    come): nothing of it was visible to another session then (no DDL committed on the way), nor
    after. (Cancelled at the verify step, the last before the commit, the child sometimes
    committed before the launcher's kill reached it on a loaded machine: the cancel is a kill,
    and that step is milliseconds from the commit.)"""
    cancel = threading.Event()
    seen_before_commit: list[dict[str, int]] = []

    def progress(step: child_run.Step) -> None:
        if step.text.startswith("creating MLflow's schema"):  # in the copy's transaction
            seen_before_commit.append(postgres.table_rows(database))
            cancel.set()

    the_plan = to_database.plan(
        Project("rich", str(rich_store)), paths, database, artifacts=str(rich_store)
    )
    with pytest.raises(child_run.MoveCancelled):
        to_database.move(the_plan, paths, progress=progress, cancel=cancel)
    assert seen_before_commit == [{}] and postgres.table_rows(database) == {}
    left = paths.data_dir / "stores"
    assert not [p for p in left.rglob("*") if p.is_file()], "a temporary file was left"


def test_a_cancel_after_the_go_ahead_is_refused(
    paths: AppPaths, rich_store: Path, database: str
) -> None:
    """The child asks before it commits and the launcher answers once: a cancel that comes
    after the answer cannot turn a committed copy into "Cancelled; nothing was written"
    (before the go-ahead, a cancel in the commit's last milliseconds could). Here the cancel
    comes the moment the launcher has said yes: the move finishes, and says so truly."""
    cancel = threading.Event()
    phases: list[str] = []

    def progress(step: child_run.Step) -> None:
        phases.append(step.phase)
        if step.phase == "commit":
            cancel.set()

    the_plan = to_database.plan(
        Project("rich", str(rich_store)), paths, database, artifacts=str(rich_store)
    )
    result = to_database.move(the_plan, paths, progress=progress, cancel=cancel)
    assert "commit" in phases and phases[-1] == "done"
    assert result.ok, result.report()
    assert postgres.table_rows(database)["runs"] == result.tables["runs"] > 0


def _open_transaction(url: str) -> bool:
    """Does a session hold an open transaction in the database ``url`` names?"""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND xact_start IS NOT NULL "
            "AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
        return bool(row and row[0])


def test_ctrl_c_in_the_cli_commits_nothing(
    paths: AppPaths, started_local: Path, database: str
) -> None:
    """A real SIGINT to ``mlflow-launcher move --to postgresql://...`` while the copy's
    transaction is open in the database."""
    config = _config_bytes(paths)
    proc = start_cli(_move(database, started_local.parent, "--switch"))
    argv: list[str] = []

    def copying() -> bool:
        with contextlib.suppress(psutil.Error):
            argv.extend(" ".join(c.cmdline()) for c in psutil.Process(proc.pid).children(True))
        return _open_transaction(database)

    err = interrupt_when(proc, copying)
    # a child seen before its exec shows our argv
    copiers = [a for a in argv if "move-to-database" in a]
    assert copiers, argv
    assert not [a for a in copiers if "postgresql://" in a], "the URL is in the copier's argv"
    assert proc.returncode == 1 and "Cancelled" in err, err
    assert f":{PASSWORD}@" not in err
    deadline = time.monotonic() + 10
    while _open_transaction(database) and time.monotonic() < deadline:
        time.sleep(0.1)  # the killed child's session ends (its transaction rolled back)
    assert postgres.table_rows(database) == {} and _config_bytes(paths) == config
