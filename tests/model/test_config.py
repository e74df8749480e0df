"""The config file: round trip, first run, bad files kept aside, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from launcher.model.config import SCHEMA_VERSION, Config, ConfigStore
from launcher.model.paths import AppPaths, app_paths
from launcher.model.project import Project, ProjectError


def test_first_run_has_the_embedded_local_project(paths: AppPaths) -> None:
    loaded = ConfigStore(paths).load()
    assert loaded.problem is None
    assert [p.name for p in loaded.config.projects] == ["Local"]
    local = loaded.config.projects[0]
    assert paths.owns(Path(local.store))
    assert local.parsed_store().kind.value == "sqlite"
    on_disk = json.loads(paths.config_file.read_text(encoding="utf-8"))
    assert on_disk["schema"] == SCHEMA_VERSION


def test_home_override_moves_config_data_and_logs(app_home: Path) -> None:
    paths = app_paths()
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir):
        assert folder.is_relative_to(app_home)


def test_round_trip_keeps_every_field(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    project = Project(
        name="Ünïcode & spaces",
        store=r"/srv/ml/mlruns",
        prefix="dra_",
        python="/opt/py/bin/python",
        extra_args=["--static-prefix", "/mlflow"],
        artifacts="/srv/artifacts",
        host="127.0.0.1",
        port=5123,
    )
    store.update(lambda c: c.add(project))
    store.update(lambda c: setattr(c.settings, "idle_stop_minutes", 5))
    again = ConfigStore(paths).load().config
    assert again.get("ünïcode & SPACES") == project  # names match case-insensitively
    assert again.settings.idle_stop_minutes == 5


def test_duplicate_names_are_refused_case_insensitively(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    with pytest.raises(ProjectError, match="already exists"):
        store.update(lambda c: c.add(Project("local", "/x/mlruns")))
    assert [p.name for p in store.load().config.projects] == ["Local"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "could not be used"),
        (json.dumps({"schema": SCHEMA_VERSION + 1, "projects": []}), "newer launcher"),
        (json.dumps({"schema": SCHEMA_VERSION, "projects": [{"name": 3}]}), "lacks"),
        (json.dumps([1, 2]), "not a JSON object"),
    ],
)
def test_bad_file_is_moved_aside_not_overwritten(
    paths: AppPaths, content: str, reason: str
) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(content, encoding="utf-8")
    loaded = ConfigStore(paths).load()
    assert loaded.problem is not None and reason in loaded.problem
    asides = list(paths.config_dir.glob("config.json.*.bad"))
    assert len(asides) == 1
    assert asides[0].read_text(encoding="utf-8") == content  # nothing lost
    assert asides[0].name in loaded.problem
    assert [p.name for p in loaded.config.projects] == ["Local"]
    # A second bad file on the same second gets its own name.
    paths.config_file.write_text(content, encoding="utf-8")
    ConfigStore(paths).load()
    assert len(list(paths.config_dir.glob("config.json.*.bad"))) == 2


def test_a_store_this_os_cannot_serve_does_not_break_loading(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    data = store.load().config.to_dict()
    data["projects"].append(Project("Team", "C:\\ml\\mlruns").to_dict())
    paths.config_file.write_text(json.dumps(data), encoding="utf-8")
    loaded = store.load()
    assert loaded.problem is None
    assert loaded.config.get("Team").store == "C:\\ml\\mlruns"


def test_no_temp_files_left_behind(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    for i in range(5):
        store.update(lambda c, i=i: c.add(Project(f"p{i}", f"/x/{i}/mlruns")))
    leftovers = [p.name for p in paths.config_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def _add_many(home: str, worker: int, count: int) -> None:
    import os

    os.environ["MLFLOW_LAUNCHER_HOME"] = home
    store = ConfigStore(app_paths())
    for i in range(count):
        store.update(lambda c, i=i: c.add(Project(f"w{worker}-{i}", f"/s/{worker}/{i}/mlruns")))


def test_concurrent_writers_lose_nothing(app_home: Path) -> None:
    ConfigStore(app_paths()).load()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_add_many, args=(str(app_home), w, 15)) for w in range(4)]
    for proc in workers:
        proc.start()
    for proc in workers:
        proc.join(120)
        assert proc.exitcode == 0
    config = ConfigStore(app_paths()).load()
    assert config.problem is None
    names = {p.name for p in config.config.projects}
    assert names == {"Local"} | {f"w{w}-{i}" for w in range(4) for i in range(15)}


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_the_config_is_private_and_an_export_is_not(paths: AppPaths, tmp_path: Path) -> None:
    """The config may hold a database password; an export is meant for the team's share."""
    from launcher.model import catalog

    store = ConfigStore(paths)
    store.save(Config(projects=[Project("A", "/data/a/mlruns")]))
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    export = tmp_path / "team.json"
    catalog.write_export(export, store.load().config.projects)
    assert stat.S_IMODE(export.stat().st_mode) == 0o644
