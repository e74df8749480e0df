"""Passwords in the OS credential store (a file keyring in tmp_path here), and the fallback."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import ClassVar

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordSetError

from launcher.model import catalog, credentials
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.snippet import tracking_snippet


class RefusingKeyring(KeyringBackend):
    """Keeps passwords in memory, and refuses every one for a URL naming the host 'refused'."""

    priority = 1  # type: ignore[assignment]
    stored: ClassVar[dict[tuple[str, str], str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if "@refused" in username:
            raise PasswordSetError("the store is locked")
        self.stored[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.stored.pop((service, username), None)


@pytest.fixture
def refusing(monkeypatch: pytest.MonkeyPatch) -> type[RefusingKeyring]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{__name__}.RefusingKeyring")
    RefusingKeyring.stored = {}
    credentials.reset()
    assert isinstance(keyring.get_keyring(), RefusingKeyring)
    return RefusingKeyring


@pytest.mark.parametrize(
    ("url", "bare", "password"),
    [
        ("postgresql://me:s3cret@db:5432/mlflow", "postgresql://me@db:5432/mlflow", "s3cret"),
        (
            "postgresql+psycopg://me:p%40ss%2Fx@db/ml?sslmode=require",
            "postgresql+psycopg://me@db/ml?sslmode=require",
            "p@ss/x",
        ),
        ("mysql+pymysql://u:pw@db/mlflow", "mysql+pymysql://u@db/mlflow", "pw"),
        ("https://alice:pw@mlflow.example/", "https://alice@mlflow.example/", "pw"),
        ("postgresql://me@db/mlflow", "postgresql://me@db/mlflow", None),
        ("postgresql://:only@db/mlflow", "postgresql://db/mlflow", "only"),
        ("/data/mlruns", "/data/mlruns", None),
        ("sqlite:////data/x.db", "sqlite:////data/x.db", None),
    ],
)
def test_split_takes_out_the_password_and_nothing_else(
    url: str, bare: str, password: str | None
) -> None:
    assert credentials.split(url) == (bare, password)
    if password is not None:
        assert credentials.split(credentials.with_password(bare, password)) == (bare, password)


def test_one_key_per_database_whatever_the_spelling() -> None:
    key = "postgresql://me@db:5432/mlflow"
    assert credentials.key("postgresql://me:x@db:5432/mlflow") == key
    assert credentials.key("postgres://me@db:5432/mlflow") == key
    assert credentials.key("postgresql+psycopg://me@db:5432/mlflow?sslmode=require") == key
    assert credentials.key("https://a@h/x/") == credentials.key("https://a:pw@h/x")
    assert credentials.key("postgresql://other@db:5432/mlflow") != key


def test_passwords_are_stored_read_and_forgotten(keyring_file: Path) -> None:
    url = "postgresql://me@db/mlflow"
    assert credentials.password_for(url) is None
    credentials.store_password("postgresql://me:old@db/mlflow", "n3w")
    assert credentials.password_for(url) == "n3w"
    assert credentials.password_for("postgres://me@db/mlflow") == "n3w"
    assert credentials.password_for("postgresql://me:inline@db/mlflow") == "inline"
    assert keyring.get_password(credentials.SERVICE, url) == "n3w"
    assert credentials.forget(url)
    assert credentials.password_for(url) is None
    assert not credentials.forget(url)
    assert credentials.unavailable_message() is None


def test_server_environment_carries_the_password_and_only_it(keyring_file: Path) -> None:
    credentials.store_password("postgresql://me@db/mlflow", "pg-pw")
    credentials.store_password("mysql+pymysql://u@db/mlflow", "my pw")
    pg = "postgresql://me@db/mlflow"
    assert credentials.server_uri(pg) == pg
    assert credentials.database_env(pg) == {"PGPASSWORD": "pg-pw"}
    my = "mysql+pymysql://u@db/mlflow"
    assert credentials.server_uri(my) == "mysql+pymysql://u:my%20pw@db/mlflow"
    assert credentials.database_env(my) == {}
    assert credentials.database_env("postgresql://nobody@db/mlflow") == {}
    credentials.store_password("https://alice@mlflow.example", "web")
    assert credentials.remote_env("https://alice@mlflow.example/") == {
        "MLFLOW_TRACKING_USERNAME": "alice",
        "MLFLOW_TRACKING_PASSWORD": "web",
    }


def _write_config(paths: AppPaths, projects: list[dict]) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(json.dumps({"schema": 1, "projects": projects}), "utf-8")


def test_an_old_config_moves_its_passwords_to_the_store_on_load(
    keyring_file: Path, paths: AppPaths
) -> None:
    _write_config(
        paths,
        [
            {"name": "PG", "store": "postgresql://me:s3cret@db/mlflow", "prefix": "x_"},
            {"name": "Web", "store": "https://alice:w3b@mlflow.example"},
            {"name": "Files", "store": "/data/mlruns"},
        ],
    )
    config = ConfigStore(paths).load().config
    assert [p.store for p in config.projects] == [
        "postgresql://me@db/mlflow",
        "https://alice@mlflow.example",
        "/data/mlruns",
    ]
    assert config.get("PG").prefix == "x_"
    text = paths.config_file.read_text("utf-8")
    assert "s3cret" not in text and "w3b" not in text
    assert "postgresql://me@db/mlflow" in text
    assert credentials.password_for("postgresql://me@db/mlflow") == "s3cret"
    assert credentials.password_for("https://alice@mlflow.example") == "w3b"
    if os.name != "nt":
        assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600


def test_a_saved_project_never_writes_its_password(keyring_file: Path, paths: AppPaths) -> None:
    store = ConfigStore(paths)
    store.save(Config(projects=[Project("PG", "postgresql://me:s3cret@db/mlflow")]))
    assert "s3cret" not in paths.config_file.read_text("utf-8")
    assert store.load().config.get("PG").store == "postgresql://me@db/mlflow"
    assert credentials.password_for("postgresql://me@db/mlflow") == "s3cret"


def test_a_store_that_refuses_midway_keeps_that_password_in_the_config(
    refusing: type[RefusingKeyring], paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    _write_config(
        paths,
        [
            {"name": "A", "store": "postgresql://me:first@db/a"},
            {"name": "B", "store": "postgresql://me:second@refused/b"},
            {"name": "C", "store": "postgresql://me:third@db/c"},
        ],
    )
    with caplog.at_level(logging.WARNING, logger="launcher.model.credentials"):
        config = ConfigStore(paths).load().config
        ConfigStore(paths).load()
    assert [p.name for p in config.projects] == ["A", "B", "C"]
    assert config.get("A").store == "postgresql://me@db/a"
    assert config.get("B").store == "postgresql://me:second@refused/b"  # nothing lost
    # Once the store refused, the rest stays in the private config too: a consistent fallback.
    assert config.get("C").store == "postgresql://me:third@db/c"
    text = paths.config_file.read_text("utf-8")
    assert "first" not in text and "second" in text
    assert refusing.stored == {(credentials.SERVICE, "postgresql://me@db/a"): "first"}
    assert len([r for r in caplog.records if "credential store" in r.getMessage()]) == 1


def test_without_a_credential_store_passwords_stay_in_the_private_config(
    paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    # conftest's default backend: keyring.backends.fail.Keyring, i.e. no usable store.
    from keyring.backends import fail

    assert isinstance(keyring.get_keyring(), fail.Keyring)
    _write_config(paths, [{"name": "PG", "store": "postgresql://me:s3cret@db/mlflow"}])
    with caplog.at_level(logging.WARNING, logger="launcher.model.credentials"):
        store = ConfigStore(paths)
        config = store.load().config
        store.save(config)
        message = credentials.unavailable_message()
        assert credentials.unavailable_message() == message
    assert message is not None and "private config" in message
    assert len([r for r in caplog.records if r.getMessage() == message]) == 1  # said once
    assert config.get("PG").store == "postgresql://me:s3cret@db/mlflow"
    assert "s3cret" in paths.config_file.read_text("utf-8")
    if os.name != "nt":
        assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    # The server still gets it through its environment.
    assert credentials.database_env(config.get("PG").store) == {"PGPASSWORD": "s3cret"}
    assert credentials.password_for("postgresql://me@db/mlflow") is None
    with pytest.raises(credentials.CredentialError):
        credentials.store_password("postgresql://me@db/mlflow", "x")


@pytest.mark.parametrize(
    ("platform", "named", "not_named"),
    [
        ("win32", "Windows Credential Manager", "Secret Service"),
        ("darwin", "macOS Keychain", "Secret Service"),
        ("linux", "Secret Service", "Windows"),
    ],
)
def test_the_fallback_message_names_the_store_of_its_platform(
    platform: str, named: str, not_named: str
) -> None:
    message = credentials.fallback_message(platform)
    assert named in message and not_named not in message
    assert message[0].isupper() and "private config file" in message


def test_the_message_shown_is_the_one_of_this_platform(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credentials.sys, "platform", "win32")
    message = credentials.unavailable_message()  # conftest: no usable backend
    assert message is not None and "Windows Credential Manager" in message
    assert "Secret Service" not in message


@pytest.mark.parametrize("with_store", [True, False])
def test_exports_and_catalogs_carry_no_password(
    with_store: bool, request: pytest.FixtureRequest, paths: AppPaths, tmp_path: Path
) -> None:
    if with_store:
        request.getfixturevalue("keyring_file")
    project = Project("PG", "postgresql://me:s3cret@db/mlflow")
    export = tmp_path / "team.json"
    catalog.write_export(export, [project])
    assert "s3cret" not in export.read_text("utf-8")
    # A hand-written catalog with a password: neither the listing nor the cache keeps it.
    team = tmp_path / "catalog.json"
    team.write_text(json.dumps({"schema": 1, "projects": [project.to_dict()]}), "utf-8")
    status = catalog.Catalogs(paths).refresh_one(str(team))
    assert [p.store for p in status.projects] == ["postgresql://me@db/mlflow"]
    assert "s3cret" not in catalog.Catalogs(paths).cache_path(str(team)).read_text("utf-8")
    expected = "s3cret" if with_store else None  # moved to this user's store when there is one
    assert credentials.password_for("postgresql://me@db/mlflow") == expected


def test_a_remote_snippet_names_the_login_variables_not_the_password(keyring_file: Path) -> None:
    credentials.store_password("https://alice@mlflow.example", "w3b")
    for store in ("https://alice@mlflow.example", "https://alice:w3b@mlflow.example"):
        snippet = tracking_snippet(Project("Web", store), windows=False)
        assert "w3b" not in snippet
        assert "os.environ.setdefault('MLFLOW_TRACKING_USERNAME', 'alice')" in snippet
        assert "MLFLOW_TRACKING_PASSWORD" in snippet
        assert "mlflow.set_tracking_uri('https://mlflow.example')" in snippet
        compile(snippet, "<snippet>", "exec")
    plain = tracking_snippet(Project("Web", "https://mlflow.example"), windows=False)
    assert "MLFLOW_TRACKING" not in plain
    pg = tracking_snippet(Project("PG", "postgresql://me@db/mlflow"), windows=False)
    assert "PGPASSWORD" in pg


def test_a_missing_password_is_one_a_user_needs_and_nothing_holds(keyring_file: Path) -> None:
    assert credentials.missing_password("postgresql://me@db/mlflow")
    assert credentials.missing_password("https://me@mlflow.example/")
    for url in ("postgresql://db/mlflow", "postgresql://me:pw@db/mlflow", "/data/mlruns"):
        assert not credentials.missing_password(url)
    credentials.store_password("postgresql://me@db/mlflow", "pw")
    assert not credentials.missing_password("postgres://me@db/mlflow?sslmode=require")
    assert credentials.backend_name()  # "Remember in ..." names it
