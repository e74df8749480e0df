"""The one pre-flight: each check's finding, and a start and doctor saying the same sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import parse_store
from launcher.server.checks import doctor, preflight
from launcher.server.checks.failures import Cause, ServerFailed
from launcher.server.checks.preflight import Level
from launcher.server.process import MlflowServer
from launcher.server.stores import reachable


def test_a_missing_store_is_named_alike_by_a_start_and_by_doctor(
    tmp_path: Path, paths: AppPaths
) -> None:
    project = Project("Gone", str(tmp_path / "nowhere" / "mlruns"))
    found = preflight.store_reachable(project.parsed_store(), paths)
    assert found.level is Level.ERROR and found.cause is Cause.STORE_MISSING
    assert "is missing too" in found.text  # its parent is gone as well

    with pytest.raises(ServerFailed) as failed:
        MlflowServer(project, paths).start()
    assert failed.value.failure.cause is Cause.STORE_MISSING
    assert failed.value.failure.message == found.text

    report = doctor.diagnose(project, paths)
    assert not report.ok
    assert [f.text for f in report.findings if f.is_error] == [found.text]
    assert not (tmp_path / "nowhere").exists(), "a check created the store"


def test_a_file_where_a_folder_store_should_be(tmp_path: Path, paths: AppPaths) -> None:
    file = tmp_path / "mlruns"
    file.write_text("not a store")
    found = preflight.store_reachable(parse_store(str(file)), paths)
    assert found.cause is Cause.BAD_STORE and "not an mlruns folder" in found.text


def test_a_folder_where_a_sqlite_file_should_be(tmp_path: Path, paths: AppPaths) -> None:
    folder = tmp_path / "mlflow.db"
    folder.mkdir()
    found = preflight.store_reachable(parse_store(f"sqlite:///{folder}"), paths)
    assert found.cause is Cause.BAD_STORE and "not a SQLite file" in found.text


def test_a_share_that_does_not_answer_is_unreachable(
    folder_store: Path, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "path_exists", lambda path, timeout=0: None)
    found = preflight.store_reachable(parse_store(str(folder_store)), paths)
    assert found.cause is Cause.STORE_UNREACHABLE and "did not answer" in found.text
    assert reachable.EXISTS_TIMEOUT > 0


def test_the_launchers_own_store_is_fine_before_it_exists_and_created_at_start(
    paths: AppPaths,
) -> None:
    store = parse_store(str(paths.default_store))
    assert not Path(str(store.path)).exists()
    found = preflight.store_reachable(store, paths)
    assert found.level is Level.OK and "creates it on first start" in found.text
    preflight.create_own_store(store, paths)
    assert Path(str(store.path)).parent.is_dir()


def test_a_store_the_user_named_is_never_created(tmp_path: Path, paths: AppPaths) -> None:
    store = parse_store(str(tmp_path / "theirs" / "mlruns"))
    preflight.create_own_store(store, paths)
    assert not (tmp_path / "theirs").exists()


def test_an_existing_folder_store_passes(folder_store: Path, paths: AppPaths) -> None:
    found = preflight.store_reachable(parse_store(str(folder_store)), paths)
    assert found.level is Level.OK
    found.raise_if_error()  # an ok finding lets a start go on


def test_a_missing_environment_is_named(tmp_path: Path) -> None:
    env, found = preflight.resolve_environment(
        Project("P", str(tmp_path), python=str(tmp_path / "no-python"))
    )
    assert env is None and found.cause is Cause.PYTHON_MISSING
    with pytest.raises(ServerFailed) as failed:
        found.raise_if_error()
    assert failed.value.failure.cause is Cause.PYTHON_MISSING


def test_a_bad_store_text_is_named() -> None:
    store, found = preflight.parse_store(Project("P", "ftp://nowhere/mlruns"))
    assert store is None and found.cause is Cause.BAD_STORE
