"""The command line of experiment folders, discovery and team sharing: name, discover, export,
import, catalog, and serve opening a project's own view."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths, app_paths
from tests import naming_stores
from tests.model.test_links import ui_ids
from tests.naming_stores import PREFIX, PROJECT_ACTIVE

REPO = Path(__file__).parents[2]


def cli(*args: str) -> int:
    return run_cli(list(args))


@pytest.fixture
def named(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict[str, Path]:
    return naming_stores.stores(tmp_path_factory.getbasetemp(), tmp_path / "named")


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_name_prints_the_next_conforming_name(
    named: dict[str, Path], paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    store = named["sqlite"]
    before = store.read_bytes()
    assert cli("add", "DRA", str(store), "--prefix", PREFIX) == 0
    capsys.readouterr()
    assert cli("name", "dra", "--stage", "train", "--description", "lr sweep #2") == 0
    assert capsys.readouterr().out == "dra_train_006_lr_sweep_2\n"
    assert cli("name", "DRA", "--stage", "eval", "--description", "x", "--prefix", "other_") == 0
    assert capsys.readouterr().out == "other_eval_001_x\n"
    assert store.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("name", "Local", "--stage", "train", "--description", "x"), 2, "no experiment prefix"),
        (("name", "DRA", "--stage", "pre proc", "--description", "x"), 2, "one word"),
        (("name", "DRA", "--stage", "train", "--description", "!!"), 2, "description"),
        (("name", "Nope", "--stage", "train", "--description", "x"), 2, "No project"),
        (("name", "Gone", "--stage", "train", "--description", "x"), 1, "not a folder"),
    ],
)
def test_name_failures_are_one_line(
    args: tuple[str, ...],
    code: int,
    words: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli("add", "DRA", str(tmp_path / "mlruns"), "--prefix", PREFIX)
    cli("add", "Gone", str(tmp_path / "gone" / "mlruns"), "--prefix", "g_")
    capsys.readouterr()
    assert cli(*args) == code
    assert words in one_error_line(capsys)


def test_discover_lists_then_adds_each_store_once(
    named: dict[str, Path], paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    share = named["share"]
    assert cli("discover", str(share), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert {(f["name"], f["kind"]) for f in report["found"]} == {
        ("dra", "folder"),
        ("emitter", "sqlite"),
    }
    assert report["added"] == [] and report["depth_limited"]
    assert [p.name for p in ConfigStore(paths).load().config.projects] == ["Local"]

    assert cli("discover", str(share), "--add", "--depth", "6") == 0
    out = capsys.readouterr().out
    assert "(added)" in out and "legacy" in out
    projects = {p.name: p.store for p in ConfigStore(paths).load().config.projects}
    assert projects == {
        "Local": projects["Local"],
        "dra": str(share / "ai" / "mlflow" / "dra" / "mlruns"),
        "emitter": str(share / "ai" / "mlflow" / "emitter" / "tracking.db"),
        "legacy": str(share / "ai" / "archive" / "old" / "deep" / "legacy" / "mlruns"),
    }
    assert cli("discover", str(share), "--add", "--depth", "6", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["added"] == [] and all(f["known_as"] for f in again["found"])
    assert len(ConfigStore(paths).load().config.projects) == 4


def test_discover_bad_root_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("discover", str(tmp_path / "nowhere")) == 2
    assert "not a folder" in one_error_line(capsys)
    assert cli("discover", str(tmp_path), "--depth", "-1") == 2


def test_export_import_round_trip_drops_the_python_setting(
    tmp_path: Path,
    paths: AppPaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "share" / "mlruns"
    assert cli("add", "DRA", str(store), "--prefix", PREFIX, "--python", sys.executable) == 0
    cli("add", "Other", str(tmp_path / "o.db"), "--port", "5077")
    target = tmp_path / "team.json"
    assert cli("export", str(target)) == 0
    captured = capsys.readouterr()
    assert "Local" in captured.err  # its store is in this launcher's data folder: not shared
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [p["name"] for p in data["projects"]] == ["DRA", "Other"]
    assert sys.executable not in target.read_text(encoding="utf-8")

    monkeypatch.setenv("MLFLOW_LAUNCHER_HOME", str(tmp_path / "colleague"))
    assert cli("import", str(target), "DRA") == 0
    theirs = ConfigStore(app_paths())
    dra = theirs.load().config.get("DRA")
    assert (dra.store, dra.prefix, dra.python) == (str(store), PREFIX, "")
    assert theirs.load().config.find("Other") is None
    capsys.readouterr()
    assert cli("import", str(target)) == 0
    captured = capsys.readouterr()
    assert "DRA" in captured.err and "Imported 1" in captured.out  # DRA kept, Other added
    assert theirs.load().config.get("Other").port == 0
    assert cli("import", str(tmp_path / "missing.json")) == 2
    assert cli("import", str(target), "Nope") == 2


def test_catalog_subscription_lists_team_projects_and_survives_the_file_vanishing(
    named: dict[str, Path], tmp_path: Path, paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    team_file = tmp_path / "share" / "team.json"
    team_file.parent.mkdir()
    team_file.write_text(
        json.dumps(
            {
                "schema": 1,
                "projects": [
                    {"name": "Team DRA", "store": str(named["folder"]), "prefix": PREFIX},
                    {"name": "Local", "store": "/team/local/mlruns"},
                ],
            }
        ),
        encoding="utf-8",
    )
    before = team_file.read_bytes()
    assert cli("catalog", "add", str(team_file)) == 0
    out, err = capsys.readouterr()
    assert "2 team project(s)" in out and "Local" in err  # the local one of that name wins
    assert ConfigStore(paths).load().config.catalogs == [str(team_file)]

    def listed() -> dict[str, str | None]:
        assert cli("list", "--json") == 0
        out = capsys.readouterr().out
        return {r["name"]: r["catalog"] for r in json.loads(out[out.index("[") :])}

    assert listed() == {"Local": None, "Team DRA": str(team_file)}
    assert cli("name", "team dra", "--stage", "train", "--description", "x") == 0
    assert capsys.readouterr().out.strip() == "dra_train_006_x"
    assert cli("edit", "Team DRA", "--prefix", "x_") == 2
    assert "team project" in one_error_line(capsys)

    team_file.unlink()
    assert cli("catalog", "refresh") == 1
    out, err = capsys.readouterr()
    assert "last known copy" in out and err.startswith("error: ")
    assert listed() == {"Local": None, "Team DRA": str(team_file)}
    assert cli("catalog", "list", "--json") == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["projects"] == ["Team DRA", "Local"] and "does not exist" in row["error"]

    team_file.write_bytes(before)
    assert cli("catalog", "refresh", str(team_file)) == 0
    assert team_file.read_bytes() == before  # never written back
    assert cli("catalog", "remove", str(team_file)) == 0
    capsys.readouterr()
    assert listed() == {"Local": None}
    assert cli("catalog", "remove", str(team_file)) == 2
    assert cli("catalog", "add", str(tmp_path / "none.json")) == 2


@pytest.mark.process
def test_serve_opens_the_project_view_of_a_prefixed_project(
    named: dict[str, Path], tmp_path: Path
) -> None:
    cli("add", "DRA", str(named["folder"]), "--prefix", PREFIX)
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "browser.sh"
    recorder.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n')
    recorder.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher", "serve", "DRA"],
        cwd=REPO,
        env={**os.environ, "BROWSER": f"{recorder} %s"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "/?launcher_key=" in url, url  # with its key
        deadline = time.monotonic() + 20
        while not (opened.exists() and opened.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        view = opened.read_text().strip()
        assert view.startswith(url + "#/compare-experiments/s?experiments=")
        from launcher.server.stores import experiments

        ids = {e.name: e.id for e in experiments.fetch(url)}
        assert sorted(ui_ids(view)) == sorted(ids[n] for n in PROJECT_ACTIVE)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        proc.kill()
