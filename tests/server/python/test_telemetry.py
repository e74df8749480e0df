"""MLflow's telemetry is off in the servers the launcher starts, unless the user chose it."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from launcher.app.cli import run_cli
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.process import MlflowServer

pytestmark = pytest.mark.process

OFF = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def _env_of(project: Project, paths: AppPaths, servers: list) -> dict[str, str]:
    server = MlflowServer(project, paths)
    servers.append(server)
    server.start()
    assert server.pid is not None
    try:
        return psutil.Process(server.pid).environ()
    finally:
        server.stop()


def test_started_servers_run_without_telemetry_until_the_user_opts_in(
    folder_store: Path,
    paths: AppPaths,
    servers: list,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for var in OFF:
        monkeypatch.delenv(var, raising=False)
    lean = Project("P", str(folder_store))
    # The `mlflow server` fallback: an option the lean server does not understand.
    fallback = Project(
        "F", str(folder_store), extra_args=["--uvicorn-opts", "--timeout-keep-alive 7"]
    )
    assert run_cli(["config", "telemetry"], paths) == 0
    assert "telemetry: off" in capsys.readouterr().out
    for project in (lean, fallback):
        env = _env_of(project, paths, servers)
        assert {k: env.get(k) for k in OFF} == OFF, project.name

    assert run_cli(["config", "telemetry", "on"], paths) == 0
    assert "telemetry: on" in capsys.readouterr().out
    env = _env_of(lean, paths, servers)
    assert not any(k in env for k in OFF)

    assert run_cli(["config", "telemetry", "off"], paths) == 0
    env = _env_of(lean, paths, servers)
    assert {k: env.get(k) for k in OFF} == OFF
