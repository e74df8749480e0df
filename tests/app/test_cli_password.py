"""``mlflow-launcher password NAME``: a project's database password into the credential store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.model import credentials
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project


def _config(paths: AppPaths, *projects: Project) -> ConfigStore:
    store = ConfigStore(paths)
    store.save(Config(projects=list(projects)))
    return store


def test_password_from_stdin_goes_to_the_credential_store(
    keyring_file: Path, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _config(paths, Project("PG", "postgresql://me@db/mlflow"))
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert run_cli(["password", "PG", "--stdin"]) == 0
    assert credentials.password_for("postgresql://me@db/mlflow") == "s3cret"
    assert "s3cret" not in paths.config_file.read_text("utf-8")
    assert store.load().config.get("PG").store == "postgresql://me@db/mlflow"
    assert run_cli(["password", "PG", "--forget"]) == 0
    assert credentials.password_for("postgresql://me@db/mlflow") is None


def test_without_a_credential_store_the_password_goes_to_the_private_config(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _config(paths, Project("PG", "postgresql://me@db/mlflow"))
    monkeypatch.setattr("sys.stdin", io.StringIO("s3 cret\n"))
    assert run_cli(["password", "PG", "--stdin"]) == 0
    assert store.load().config.get("PG").store == "postgresql://me:s3%20cret@db/mlflow"
    assert "credential store" in capsys.readouterr().err


def test_a_store_without_a_password_or_a_user_is_refused(
    keyring_file: Path, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(paths, Project("F", "/data/mlruns"), Project("PG", "postgresql://db/mlflow"))
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n"))
    assert run_cli(["password", "F", "--stdin"]) == 2
    assert run_cli(["password", "PG", "--stdin"]) == 2
