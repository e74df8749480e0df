"""Gathering several projects' stores into one database, a workspace per project, on a real
SQLite file and a real PostgreSQL (LAUNCHER_TEST_POSTGRES): two folder stores and a SQLite store
written by the mlflow client (traces, logged models, dataset inputs, a registry) become three
workspaces of a database that already holds another; what the mlflow client reads from each
workspace equals what it reads from the store it came from."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.model import stores as workspace_names
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import access_key
from launcher.server.stores.move import gather
from launcher.server.stores.move.child_run import MoveError, Step
from tests.browser import CHROMIUM, dom_of
from tests.server import postgres

DUMP = Path(__file__).parents[3] / "workspace_dump.py"
pytestmark = pytest.mark.process


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from postgres.team_store(request.param, tmp_path)


def _dump(uri: str, workspace: str | None = None) -> dict:
    env = dict(os.environ, MLFLOW_ENABLE_WORKSPACES="true" if workspace else "false")
    argv = [sys.executable, str(DUMP), uri, *([workspace] if workspace else [])]
    work = Path(tempfile.mkdtemp(prefix="dump-"))  # nothing of MLflow's lands in the repo
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300,
                          check=True, cwd=work)  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_three_stores_become_three_workspaces_beside_another(
    target: str,
    paths: AppPaths,
    rich_store: Path,
    folder_store: Path,
    sqlite_store: Path,
    rich_sqlite_template: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if target.startswith("sqlite"):
        Path(target[len("sqlite:///") :]).parent.mkdir(parents=True)
    lite = tmp_path / "lite" / "store.db"
    lite.parent.mkdir()
    shutil.copy2(rich_sqlite_template, lite)
    projects = [
        Project("Vision Rich", str(rich_store)),
        Project("speech", str(folder_store)),
        Project("NLP lite", str(lite)),
    ]
    older = Project("older", str(sqlite_store))
    ConfigStore(paths).save(Config(projects=[*projects, older]))
    before = {p.name: _files(Path(p.store).parent) for p in projects}

    # The database already holds a workspace of its own: gathered first, alone.
    assert run_cli(["gather", "older", "--to", target, "--workspace", "older=other"],
                   paths=paths) == 0  # fmt: skip
    # The same store twice: its runs are in the database already, refused by name.
    assert run_cli(["gather", "older", "--to", target], paths=paths) == 1
    assert "gathered before?" in capsys.readouterr().out
    code = run_cli(["gather", "Vision Rich", "speech", "NLP lite", "--to", target, "--json"],
                   paths=paths)  # fmt: skip
    assert code == 0

    # Every workspace reads back as its store does, through the mlflow client.
    folder_uri = {p.name: Path(p.store).as_uri() for p in projects[:2]}
    sources = {
        "vision-rich": folder_uri["Vision Rich"],
        "speech": folder_uri["speech"],
        "nlp-lite": "sqlite:///" + lite.as_posix(),
        "other": "sqlite:///" + sqlite_store.as_posix(),
    }
    for workspace, source in sources.items():
        expected, got = _dump(source), _dump(target, workspace)
        assert got == expected, workspace
        assert got["experiments"], workspace
    assert _dump(target, "default")["experiments"] == {}  # nothing landed outside
    rich = _dump(target, "vision-rich")["experiments"]["alpha"]
    assert rich["traces"] and rich["logged_models"] and rich["runs"]["parent"]["inputs"]
    # The stores were only read.
    assert {p.name: _files(Path(p.store).parent) for p in projects} == before


def test_an_existing_workspace_is_refused_and_a_cancel_makes_none(
    paths: AppPaths, rich_store: Path, folder_store: Path, tmp_path: Path
) -> None:
    target = "sqlite:///" + (tmp_path / "team.db").as_posix()
    projects = [Project("speech", str(folder_store)), Project("vision", str(rich_store))]
    plans = gather.plan(projects[:1], paths, target)
    first = gather.gather(plans, paths)
    assert first.ok and [r.plan.workspace for r in first.done] == ["speech"]
    assert first.done[0].renumbered == {}  # the first store's ids were free

    again = gather.gather(gather.plan(projects, paths, target), paths)
    assert not again.ok and not again.done and again.stopped_at == "speech"
    assert "already has a workspace 'speech'" in again.stopped
    assert again.not_started == ["vision"]

    cancel = threading.Event()

    def on_step(workspace: str, step: Step) -> None:
        if step.phase == "copy" and step.done > 3:
            cancel.set()

    stopped = gather.gather(gather.plan(projects[1:], paths, target, workspaces={}), paths,
                            progress=on_step, cancel=cancel)  # fmt: skip
    assert stopped.stopped == "Cancelled." and not stopped.done
    assert _dump(target, "vision")["experiments"] == {}  # no half-made workspace
    assert set(_dump(target, "speech")["experiments"]) >= {"dra_train_001_baseline"}

    ok = gather.gather(gather.plan(projects[1:], paths, target), paths)  # a new attempt works
    assert ok.ok, ok.report()
    assert "0 -> " in ok.report() and "taken in the database" in ok.report()


def test_bad_names_and_targets_are_refused_before_anything_is_written(
    paths: AppPaths, folder_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = "sqlite:///" + (tmp_path / "team.db").as_posix()
    a, b = Project("Team A", str(folder_store)), Project("team_a", str(folder_store))
    with pytest.raises(MoveError, match="would both be workspace 'team-a'"):
        gather.plan([a, b], paths, target)
    with pytest.raises(MoveError, match="lowercase"):
        gather.plan([a], paths, target, workspaces={"Team A": "Bad_Name"})
    with pytest.raises(MoveError, match="neither a SQLite file"):
        gather.plan([a], paths, "https://team:5000")
    from launcher.server.stores import shares

    monkeypatch.setattr(shares, "network_share", lambda path: "a network file system (cifs)")
    with pytest.raises(MoveError, match="network file system"):
        gather.plan([a], paths, target)
    assert not (tmp_path / "team.db").exists()


def test_a_project_that_is_one_workspace_is_served_listed_and_opened_in_it(
    paths: AppPaths,
    folder_store: Path,
    rich_store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from launcher.model.snippet import tracking_snippet
    from launcher.server.process import MlflowServer
    from launcher.server.stores import experiments, workspaces

    db = tmp_path / "team.db"
    plans = gather.plan([Project("speech", str(folder_store)), Project("vision", str(rich_store))],
                        paths, str(db))  # fmt: skip
    assert gather.gather(plans, paths).ok
    assert workspaces.of_store(str(db)) == ["speech", "vision"]  # what add offers
    assert run_cli(["add", "Team", str(db)], paths=paths) == 0
    assert "workspaces speech, vision" in capsys.readouterr().out
    assert run_cli(["add", "T", str(db), "--all-workspaces"], paths=paths) == 0
    added = {p.name: p.workspace for p in ConfigStore(paths).load().config.projects if p.workspace}
    assert added == {"T: speech": "speech", "T: vision": "vision"}
    from launcher.server.stores import discovery

    found = discovery.discover(str(tmp_path), existing=ConfigStore(paths).load().config.projects)
    spaces = {f.workspace: f.known_as for f in found.found if f.path == str(db)}
    assert spaces == {"speech": "T: speech", "vision": "T: vision"}  # discover offers them too
    capsys.readouterr()
    assert run_cli(["doctor", "T: speech"], paths=paths) in (0, 1)
    assert "active in workspace 'speech'" in capsys.readouterr().out
    assert [f.to_project().workspace for f in found.found if f.path == str(db)] == [
        "speech",
        "vision",
    ]

    project = Project("Speech", str(db), workspace="speech")
    assert "mlflow.set_workspace('speech')" in tracking_snippet(project)
    names = {e.name for e in experiments.read_store(project.parsed_store(), workspace="speech")}
    assert "dra_train_001_baseline" in names and "alpha" not in names
    server = MlflowServer(project, paths, ready_timeout=180)
    url = access_key.with_key(server.start(), server.access_key)  # the link, as the tray's
    try:
        served = {e.name for e in experiments.fetch(url, workspace="speech")}
        assert served == {e.name for e in experiments.read_folder_store(folder_store)
                          if e.active}  # fmt: skip
        assert experiments.fetch(url) == []  # nothing in `default`
        assert experiments.open_url_for(project, url).endswith("#/experiments?workspace=speech")
        menu = experiments.read_menu(project, url)
        assert all(i.url.endswith("?workspace=speech") for g in menu.groups for i in g.items)
        assert workspaces.of_server(url) == ["default", "speech", "vision"]
        if CHROMIUM:  # the UI itself, opened where the tray opens it: that workspace's list
            dom = dom_of(
                access_key.with_key(experiments.open_url_for(project, url), server.access_key)
            )
            assert "dra_train_001_baseline" in dom, dom[-3000:]
            other = Project("Vision", str(db), workspace="vision")
            dom = dom_of(
                access_key.with_key(experiments.open_url_for(other, url), server.access_key)
            )
            assert "dra_train_001_baseline" not in dom and "alpha" in dom, dom[-3000:]
    finally:
        server.stop()


def test_gather_discovers_the_stores_of_a_share(
    paths: AppPaths, folder_store: Path, rich_store: Path, tmp_path: Path
) -> None:
    from launcher.server.stores import workspaces

    target = tmp_path / "team.db"
    share = folder_store.parent  # holds mlruns/ and rich/mlruns/
    assert run_cli(["gather", "--discover", str(share), "--to", str(target)], paths=paths) == 0
    names = workspaces.of_store(str(target))
    assert len(names) == 2 and all(workspace_names.workspace_problem(n) is None for n in names)
