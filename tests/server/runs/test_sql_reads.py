"""A SQL store's runs in one query: active ones and those ended since, a workspace's only."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from launcher.model.stores import parse_store
from launcher.server.runs.sql import SqlRuns

NOW = int(time.time() * 1000)


def make_db(path: Path) -> None:
    """The columns the watcher reads, as MLflow names them (a workspace column, as MLflow 3.17)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE experiments (experiment_id INTEGER, name TEXT, workspace TEXT);"
        "CREATE TABLE runs (run_uuid TEXT, name TEXT, status TEXT, start_time INTEGER,"
        " end_time INTEGER, lifecycle_stage TEXT, experiment_id INTEGER);"
        "CREATE TABLE latest_metrics (key TEXT, value REAL, timestamp INTEGER, step INTEGER,"
        " is_nan INTEGER, run_uuid TEXT);"
    )
    conn.executemany("INSERT INTO experiments VALUES (?, ?, ?)",
                     [(1, "dra_a", "default"), (2, "dra_b", "vision")])  # fmt: skip
    conn.executemany(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, 'active', ?)",
        [("r1", "live", "RUNNING", NOW - 9000, None, 1),
         ("r2", "done", "FINISHED", NOW - 9000, NOW - 1000, 2),
         ("r3", "old", "FAILED", NOW - 90000, NOW - 80000, 2)],
    )  # fmt: skip
    conn.executemany("INSERT INTO latest_metrics VALUES (?, ?, ?, ?, 0, ?)",
                     [("loss", 0.5, NOW - 2000, 3, "r1"), ("acc", 0.9, NOW - 1500, 4, "r2"),
                      ("loss", 0.1, NOW - 1600, 4, "r2")])  # fmt: skip
    conn.commit()
    conn.close()


def test_active_and_lately_ended_runs_of_a_workspace(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    make_db(db)
    before = db.read_bytes()
    store = parse_store(str(db))
    every = SqlRuns(store, "p", "dra_").poll(NOW - 5000)
    assert sorted(r.name for r in every) == ["done", "live"]
    done = next(r for r in every if r.name == "done")
    assert [m.key for m in done.metrics] == ["acc", "loss"]  # newest first
    vision = SqlRuns(store, "p", "", workspace="vision").poll(NOW - 5000)
    assert [(r.name, r.experiment) for r in vision] == [("done", "dra_b")]
    assert SqlRuns(store, "p", "other_").poll(0) == []
    assert db.read_bytes() == before
