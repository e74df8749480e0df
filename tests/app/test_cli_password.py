"""``mlflow-launcher password NAME``: a project's database password into the credential store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.model import catalog, credentials
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


def test_add_with_password_stdin_keeps_it_in_the_credential_store(
    keyring_file: Path, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert run_cli(["add", "PG", "postgresql://me@db/mlflow", "--password-stdin"]) == 0
    assert credentials.password_for("postgresql://me@db/mlflow") == "s3cret"
    assert "s3cret" not in paths.config_file.read_text("utf-8")


def test_add_without_the_option_off_a_terminal_names_the_password_command(
    keyring_file: Path, paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["add", "PG", "postgresql://me@db/mlflow"]) == 0
    assert "mlflow-launcher password PG" in capsys.readouterr().err
    assert credentials.password_for("postgresql://me@db/mlflow") is None


def test_catalog_add_reads_one_line_per_missing_password(
    keyring_file: Path, paths: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(paths)
    team = tmp_path / "team.json"
    catalog.write_export(
        team,
        [
            Project("DB", "postgresql://me@db/mlflow"),
            Project("DB2", "postgresql://me@db/mlflow?sslmode=require"),  # same login: asked once
            Project("Remote", "https://me@mlflow.example"),
            Project("Folder", str(tmp_path / "mlruns")),
        ],
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("pg-pw\nweb-pw\n"))
    assert run_cli(["catalog", "add", str(team), "--password-stdin"]) == 0
    assert credentials.password_for("postgresql://me@db/mlflow") == "pg-pw"
    assert credentials.password_for("https://me@mlflow.example") == "web-pw"
    assert "pw" not in paths.config_file.read_text("utf-8")


def test_catalog_add_with_too_few_lines_says_which_password_is_missing(
    keyring_file: Path,
    paths: AppPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _config(paths)
    team = tmp_path / "team.json"
    catalog.write_export(team, [Project("DB", "postgresql://me@db/mlflow")])
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert run_cli(["catalog", "add", str(team), "--password-stdin"]) == 2
    assert "'DB'" in capsys.readouterr().err


def test_a_new_password_is_asked_twice_and_must_match(monkeypatch: pytest.MonkeyPatch) -> None:
    from launcher.app.commands.common import UsageError
    from launcher.app.commands.credentials import read_password

    answers = iter(["first-password", "other-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(UsageError, match="differ"):
        read_password(False, "New: ", confirm="Again: ")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "same-password")
    assert read_password(False, "New: ", confirm="Again: ") == "same-password"
