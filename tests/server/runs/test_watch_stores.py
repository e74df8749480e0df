"""Real training-like scripts (tests/server/runs/training.py) logging to a folder store, SQLite
and PostgreSQL through the mlflow client, watched by the run watcher: a run that finishes gives
FINISHED with its metrics, one that raises inside ``start_run`` FAILED, one killed with SIGKILL
"seems stalled" after a shortened window; nothing is replayed; the store is not changed."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from launcher.model.project import Project
from launcher.model.runs.events import FAILED, FINISHED, STALLED, WatchState
from launcher.server.runs.watcher import RunWatcher
from tests.server import postgres
from tests.server.helpers import tree_hash

SCRIPT = Path(__file__).with_name("training.py")
STALL_MINUTES = 0.05  # 3 s: the shortened window


def _train(uri: str, login: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONUNBUFFERED": "1", **login}
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def _expect(proc: subprocess.Popen[str], word: str) -> None:
    """Wait for the script to say ``word`` (a tracking server's client prints "View run" lines)."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        if line.strip() == word:
            return
        seen.append(line)
    raise AssertionError(f"{seen!r} (exit {proc.poll()})")


def pg_hash(url: str) -> str:
    import psycopg

    digest = hashlib.sha256()
    with psycopg.connect(url) as conn:
        tables = sorted(r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))  # fmt: skip
        for table in tables:
            rows = conn.execute(f'SELECT t::text FROM "{table}" t ORDER BY 1').fetchall()
            digest.update(repr((table, rows)).encode())
    return digest.hexdigest()


def scenario(
    store: str, uri: str, snapshot: Callable[[], object], login: dict[str, str] | None = None
) -> None:
    """The training script against ``uri``, watched through ``store`` (the project's store)."""
    project = Project("dra", store, prefix="dra_")
    watcher = RunWatcher(stall_minutes=STALL_MINUTES)
    for proc in _train(uri, login or {}):
        _expect(proc, "ready")
        first = watcher.look([project])  # the first look only records
        assert first.events == [] and first.unreachable == []
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        _expect(proc, "hanging")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        before = snapshot()

        look = watcher.look([project])
        kinds = {e.run.name: e.kind for e in look.events}
        assert kinds == {"good": FINISHED, "boom": FAILED}, look.events
        good = next(e for e in look.events if e.kind == FINISHED)
        assert {m.key for m in good.run.metrics} == {"loss", "acc"}
        assert "loss 0.3333" in good.text and "acc 0.7" in good.text
        assert [r.name for r in look.active] == ["hang"]
        assert look.active[0].last_metric is not None
        assert look.active[0].last_metric.step == 4

        saved = WatchState.from_text(watcher.state.to_text())  # a restart of the tray
        watcher = RunWatcher(saved, stall_minutes=STALL_MINUTES)
        time.sleep(STALL_MINUTES * 60 + 0.5)
        look = watcher.look([project])
        assert [(e.kind, e.run.name) for e in look.events] == [(STALLED, "hang")]
        assert "seems stalled: last metric at" in look.events[0].text
        assert watcher.look([project]).events == []  # said once
        assert snapshot() == before  # read-only


@pytest.mark.process
def test_folder_store(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    root.mkdir()
    scenario(str(root), root.as_uri(), lambda: tree_hash(root))


@pytest.mark.process
def test_sqlite_store(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    scenario(str(db), f"sqlite:///{db}", lambda: tree_hash(tmp_path))


@pytest.fixture
def database() -> Iterator[str]:
    yield from postgres.scratch_database()


@pytest.mark.parametrize("_pg", [0], ids=["postgres"])
@pytest.mark.process
@pytest.mark.skipif(not postgres.ADMIN_URL, reason="LAUNCHER_TEST_POSTGRES is not set")
def test_postgres_store(database: str, _pg: int) -> None:
    scenario(database, database, lambda: pg_hash(database))
