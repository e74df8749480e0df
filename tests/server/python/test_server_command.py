"""Command building: which server runs, with which environment. Nothing is started here."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.model.project import Project
from launcher.model.stores import parse_store
from launcher.server.python import server_command as commands
from launcher.server.python.environment import PythonEnv

LEAN_ENV = PythonEnv("/py/bin/python", False, "3.17.2", "/py/mlflow", True)
OLD_ENV = PythonEnv("/old/bin/python", False, "2.9.0", "/old/mlflow", False)
INHERITED = {
    "PATH": "/usr/bin",
    "MLFLOW_PORT": "5000",
    "MLFLOW_BACKEND_STORE_URI": "sqlite:///other.db",
    "MLFLOW_TRACKING_URI": "http://elsewhere",
    "_MLFLOW_SERVER_FILE_STORE": "/wrong",
    "MLFLOW_TRACKING_USERNAME": "kept",
}


def build(project: Project, env: PythonEnv = LEAN_ENV, port: int = 5123) -> commands.ServerCommand:
    return commands.build(
        project,
        parse_store(project.store, windows=False),
        env,
        port=port,
        artifacts_dir=Path("/data/artifacts/p"),
        work_dir=Path("/data/run"),
        base_env=dict(INHERITED),
    )


def test_lean_command_sets_what_mlflow_server_sets_for_its_child() -> None:
    cmd = build(Project("p", "/srv/mlruns"))
    assert cmd.lean
    assert cmd.argv[0] == "/py/bin/python"
    assert cmd.argv[-6:] == ["serve", "--host", "127.0.0.1", "--port", "5123", "--watch-stdin"]
    env = cmd.env
    assert env["_MLFLOW_SERVER_FILE_STORE"] == "file:///srv/mlruns"
    assert env["_MLFLOW_SERVER_REGISTRY_STORE"] == "file:///srv/mlruns"
    assert env["_MLFLOW_SERVER_ARTIFACT_ROOT"] == "mlflow-artifacts:/"
    assert env["_MLFLOW_SERVER_SERVE_ARTIFACTS"] == "true"
    assert env["_MLFLOW_SERVER_ARTIFACT_DESTINATION"] == str(Path("/data/artifacts/p").absolute())
    assert env["_MLFLOW_SGI_NAME"] == "uvicorn"
    assert env["MLFLOW_ALLOW_FILE_STORE"] == "true"
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert cmd.base_url == "http://127.0.0.1:5123/"
    assert cmd.cwd == str(Path("/data/run"))


def test_inherited_overrides_are_cleared_but_credentials_kept() -> None:
    env = build(Project("p", "/srv/mlflow.db")).env
    for var in ("MLFLOW_PORT", "MLFLOW_BACKEND_STORE_URI", "MLFLOW_TRACKING_URI"):
        assert var not in env
    assert env["_MLFLOW_SERVER_FILE_STORE"] == "sqlite:////srv/mlflow.db"
    assert env["MLFLOW_TRACKING_USERNAME"] == "kept"
    assert "MLFLOW_ALLOW_FILE_STORE" not in env  # only folder stores need it


def test_security_options_stay_lean_and_reach_the_middleware() -> None:
    project = Project(
        "p",
        "/srv/mlruns",
        host="0.0.0.0",
        extra_args=[
            "--allowed-hosts",
            "ml.team,localhost",
            "--static-prefix=/ml",
            "--workers",
            "1",
        ],
    )
    cmd = build(project)
    assert cmd.lean
    assert cmd.env["MLFLOW_SERVER_ALLOWED_HOSTS"] == "ml.team,localhost"
    assert cmd.env["_MLFLOW_STATIC_PREFIX"] == "/ml"
    assert "--host" in cmd.argv and cmd.argv[cmd.argv.index("--host") + 1] == "0.0.0.0"
    assert cmd.base_url == "http://127.0.0.1:5123/ml/"


@pytest.mark.parametrize(
    "extra", [["--workers", "4"], ["--uvicorn-opts", "--timeout-keep-alive 5"], ["--dev"]]
)
def test_options_the_lean_server_lacks_fall_back_without_dropping_them(extra: list[str]) -> None:
    cmd = build(Project("p", "/srv/mlruns", extra_args=[*extra, "--port", "7000"]))
    assert not cmd.lean
    tail = cmd.argv[cmd.argv.index("--") + 1 :]
    assert cmd.env["MLFLOW_BACKEND_STORE_URI"] == "file:///srv/mlruns"
    assert tail[-len(extra) :] == extra
    assert "7000" not in tail  # the launcher passes host and port itself


def test_environment_without_lean_internals_falls_back() -> None:
    cmd = build(Project("p", "/srv/mlruns"), env=OLD_ENV)
    assert not cmd.lean
    assert cmd.argv[:1] == ["/old/bin/python"]
    assert "fallback" in cmd.argv
    assert "--artifacts-destination" in cmd.argv


def test_project_port_and_args_port() -> None:
    assert commands.host_and_port(Project("p", "/x", port=6000)) == ("127.0.0.1", 6000)
    assert commands.host_and_port(Project("p", "/x", extra_args=["-p", "6001"])) == (
        "127.0.0.1",
        6001,
    )


def test_folder_store_without_models_folder_gets_a_registry_of_ours(tmp_path: Path) -> None:
    store_dir = tmp_path / "mlruns"
    store_dir.mkdir()
    store = parse_store(str(store_dir), windows=False)
    ours = tmp_path / "data" / "registry" / "p"
    assert commands.registry_for(store, ours) == ours.as_uri()
    (store_dir / "models").mkdir()
    assert commands.registry_for(store, ours) is None
    assert commands.registry_for(parse_store("/x/mlflow.db", windows=False), ours) is None
    cmd = commands.build(
        Project("p", str(store_dir)),
        store,
        LEAN_ENV,
        port=1,
        artifacts_dir=tmp_path,
        work_dir=tmp_path,
        base_env={},
        registry_uri=ours.as_uri(),
    )
    assert cmd.env["_MLFLOW_SERVER_REGISTRY_STORE"] == ours.as_uri()


def test_a_database_password_never_reaches_the_command_line() -> None:
    """PostgreSQL gets it in PGPASSWORD with a password-less URL; MySQL (pymysql reads no
    variable) the full URL, in the environment only, lean or ``mlflow server`` alike."""
    cases = {
        "postgresql://me:s3cret@db/mlflow": "postgresql://me@db/mlflow",
        "mysql+pymysql://me:s3cret@db/mlflow": "mysql+pymysql://me:s3cret@db/mlflow",
    }
    for url, served in cases.items():
        for env in (LEAN_ENV, OLD_ENV):
            for extra in ([], ["--workers", "2"]):
                cmd = build(Project("p", url, extra_args=extra), env=env)
                assert "s3cret" not in " ".join(cmd.argv)
                var = "_MLFLOW_SERVER_FILE_STORE" if cmd.lean else "MLFLOW_BACKEND_STORE_URI"
                assert cmd.env[var] == served
                assert cmd.env.get("PGPASSWORD") == ("s3cret" if "postgres" in url else None)


def test_a_password_from_the_credential_store_reaches_the_environment_only(
    keyring_file: Path,
) -> None:
    from launcher.model import credentials

    credentials.store_password("postgresql://me@db/mlflow", "k3yring")
    credentials.store_password("mysql+pymysql://me@db/mlflow", "k3yring")
    pg = build(Project("p", "postgresql://me@db/mlflow"))
    assert pg.env["PGPASSWORD"] == "k3yring"
    assert pg.env["_MLFLOW_SERVER_FILE_STORE"] == "postgresql://me@db/mlflow"
    for env in (LEAN_ENV, OLD_ENV):
        my = build(Project("p", "mysql+pymysql://me@db/mlflow"), env=env)
        var = "_MLFLOW_SERVER_FILE_STORE" if my.lean else "MLFLOW_BACKEND_STORE_URI"
        assert my.env[var] == "mysql+pymysql://me:k3yring@db/mlflow"
        assert "k3yring" not in " ".join(my.argv)
        assert "PGPASSWORD" not in my.env


def test_the_schema_reader_gets_the_store_in_its_environment(keyring_file: Path) -> None:
    from launcher.model import credentials
    from launcher.server.child.protocol import STORE_URI_VAR
    from launcher.server.stores import schema

    credentials.store_password("mysql+pymysql://me@db/mlflow", "k3yring")
    env = schema.store_env(parse_store("mysql+pymysql://me@db/mlflow", windows=False), LEAN_ENV)
    assert env[STORE_URI_VAR] == "mysql+pymysql://me:k3yring@db/mlflow"
    credentials.store_password("postgresql://me@db/mlflow", "pg")
    env = schema.store_env(parse_store("postgresql://me@db/mlflow", windows=False), LEAN_ENV)
    assert (env[STORE_URI_VAR], env["PGPASSWORD"]) == ("postgresql://me@db/mlflow", "pg")
