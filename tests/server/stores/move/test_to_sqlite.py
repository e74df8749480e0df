"""Moving a folder store to SQLite: MLflow's converter in a child, the check, the switch; and
what a failure, a difference or a cancel leave behind (nothing under the target's name)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import psutil
import pytest
import yaml

from launcher.app.cli import run_cli
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.stores import shares
from launcher.server.stores.move import child_run, to_sqlite
from tests.server.helpers import gone, interrupt_when, start_cli, tree_hash

pytestmark = pytest.mark.process


def _add(paths: AppPaths, store: Path, name: str = "rich") -> None:
    assert run_cli(["add", name, str(store)], paths) == 0


def _left_over(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_migrate_verify_switch(
    paths: AppPaths, rich_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _add(paths, rich_store)
    before = tree_hash(rich_store.parent)
    assert run_cli(["move", "rich", "--switch"], paths) == 0
    out = capsys.readouterr().out
    assert tree_hash(rich_store.parent) == before, "the folder store changed"
    assert "verified: 4 experiments, 1 experiment tags, 8 runs" in out
    for kind in ("1 dataset inputs", "1 logged models", "1 traces", "1 assessments"):
        assert kind in out
    assert "2 model versions, 1 version tags, 1 aliases, 2 spans" in out
    assert "Artifacts were not copied" in out
    config = ConfigStore(paths).load().config
    target = to_sqlite.default_target(paths, config.get("rich"))
    assert config.get("rich").store == str(target)
    assert config.get("rich (folder)").store == str(rich_store)
    assert _left_over(target.parent) == ["mlflow.db"], "a temporary file was left"
    conn = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)
    try:
        stages = dict(conn.execute("SELECT name, lifecycle_stage FROM experiments"))
        assert stages == {
            "Default": "active",
            "alpha": "active",
            "beta": "active",
            "gone": "deleted",
        }
        children = conn.execute("SELECT COUNT(*) FROM tags WHERE key = 'mlflow.parentRunId'")
        assert children.fetchone() == (2,)
        assert conn.execute("SELECT COUNT(*) FROM model_versions").fetchone() == (2,)
        uris = {u for (u,) in conn.execute("SELECT artifact_uri FROM runs")}
        on_disk = {yaml.safe_load(m.read_text())["artifact_uri"] for m in _run_metas(rich_store)}
        assert uris == on_disk, "artifacts must stay where they are, and be pointed at"
    finally:
        conn.close()


def _run_metas(mlruns: Path) -> list[Path]:
    return [m for m in mlruns.rglob("meta.yaml") if m.parent.parent.name.isdigit()]


def test_existing_database_is_refused(
    paths: AppPaths, rich_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _add(paths, rich_store)
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"something")
    assert run_cli(["move", "rich", "--to", str(taken), "--switch"], paths) == 1
    assert "already exists and is not empty" in capsys.readouterr().err
    assert taken.read_bytes() == b"something"
    assert ConfigStore(paths).load().config.get("rich").store == str(rich_store)


def test_sql_store_is_refused(paths: AppPaths, sqlite_store: Path) -> None:
    project = Project(name="db", store=str(sqlite_store))
    with pytest.raises(child_run.MoveError, match="not a folder store"):
        to_sqlite.plan(project, paths)


def test_corrupt_store_leaves_no_file_and_no_switch(
    paths: AppPaths, rich_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metric = next(rich_store.rglob("metrics/loss"))
    metric.write_text("this is not a metric line\n")
    _add(paths, rich_store)
    before = tree_hash(rich_store.parent)
    target = tmp_path / "out" / "new.db"
    target.parent.mkdir()
    assert run_cli(["move", "rich", "--to", str(target), "--switch"], paths) == 1
    assert "MLflow's converter failed" in capsys.readouterr().err
    assert _left_over(target.parent) == []
    assert tree_hash(rich_store.parent) == before
    assert ConfigStore(paths).load().config.get("rich").store == str(rich_store)


def test_a_difference_keeps_the_file_aside(
    paths: AppPaths,
    rich_store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = to_sqlite.convert

    def lossy(the_plan: to_sqlite.Plan, temp: Path, *args: object) -> None:
        real(the_plan, temp, *args)  # type: ignore[arg-type]
        conn = sqlite3.connect(temp)
        conn.execute("DELETE FROM params WHERE key = 'lr'")
        conn.execute("DELETE FROM metrics WHERE key = 'score' AND step = 2")
        conn.commit()
        conn.close()

    monkeypatch.setattr(to_sqlite, "convert", lossy)
    _add(paths, rich_store)
    target = tmp_path / "out" / "new.db"
    target.parent.mkdir()
    # "migrate": the first name of "move", kept as an alias
    assert run_cli(["migrate", "rich", "--to", str(target), "--switch"], paths) == 1
    out = capsys.readouterr().out
    assert "params differ (lr)" in out
    assert "metric histories differ in length (score)" in out
    assert "was not switched" in out
    left = _left_over(target.parent)
    assert len(left) == 1 and left[0].startswith("new.unverified-"), left
    assert ConfigStore(paths).load().config.get("rich").store == str(rich_store)


def test_cancel_leaves_nothing(paths: AppPaths, rich_store: Path, tmp_path: Path) -> None:
    project = Project(name="rich", store=str(rich_store))
    target = tmp_path / "out" / "new.db"
    target.parent.mkdir()
    the_plan = to_sqlite.plan(project, paths, str(target))
    cancel = threading.Event()
    children: list[int] = []

    def progress(step: child_run.Step) -> None:
        if step.phase == "runs" and not cancel.is_set():
            for child in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if "move-to-sqlite" in child.cmdline():
                        children.append(child.pid)
            cancel.set()

    with pytest.raises(child_run.MoveCancelled):
        to_sqlite.move(the_plan, paths, progress=progress, cancel=cancel)
    assert children, "the migration ran in a child process"
    assert gone(children), "the child outlived cancel"
    assert _left_over(target.parent) == []


def test_network_share_is_named(tmp_path: Path) -> None:
    assert shares.network_share("//server/share/mlflow.db") is not None
    assert shares.network_share(tmp_path / "x.db") is None


def test_ctrl_c_in_the_cli_leaves_nothing(
    paths: AppPaths, rich_store: Path, tmp_path: Path
) -> None:
    """A real SIGINT to ``mlflow-launcher migrate`` while MLflow's converter runs."""
    _add(paths, rich_store)
    out = tmp_path / "out"
    out.mkdir()
    proc = start_cli(["move", "rich", "--to", str(out / "new.db")])
    children: list[int] = []

    def converting() -> bool:
        # SIGINT once the converter's process runs (MLflow's import alone takes seconds there):
        # waiting for its temporary file instead raced a quick machine, which had converted the
        # small store and begun verifying by then.
        with contextlib.suppress(psutil.Error):
            children[:] = [
                c.pid
                for c in psutil.Process(proc.pid).children(recursive=True)
                if "move-to-sqlite" in c.cmdline()
            ]
        return bool(children)

    err = interrupt_when(proc, converting)
    assert proc.returncode == 1 and "Cancelled" in err, err
    assert list(out.iterdir()) == []
    assert gone(children)
    assert ConfigStore(paths).load().config.get("rich").store == str(rich_store)
