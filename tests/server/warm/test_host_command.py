"""Which projects a host may serve (pure: the command alone, nothing started)."""

from __future__ import annotations

from pathlib import Path

from launcher.server.python.server_command import ServerCommand
from launcher.server.warm.host import host_command_for

ARGV = ["python", "main.py", "serve", "--host", "127.0.0.1", "--port", "5000"]


def command(tmp_path: Path, env: dict[str, str], host: str = "127.0.0.1", lean: bool = True):  # type: ignore[no-untyped-def]
    return ServerCommand(ARGV, env, str(tmp_path), host, 5000, lean)


def test_a_project_with_workspaces_on_is_never_hosted(tmp_path: Path) -> None:
    """MLflow keeps one workspace store per process: such a project gets a process of its own."""
    assert host_command_for(command(tmp_path, {"PATH": "/usr/bin"})) is not None
    spaced = command(tmp_path, {"PATH": "/usr/bin", "MLFLOW_ENABLE_WORKSPACES": "true"})
    assert host_command_for(spaced) is None


def test_only_lean_loopback_projects_are_hosted_and_alike_ones_share_a_host(
    tmp_path: Path,
) -> None:
    a = host_command_for(command(tmp_path, {"PATH": "/usr/bin", "_MLFLOW_SERVER_FILE_STORE": "a"}))
    b = host_command_for(command(tmp_path, {"PATH": "/usr/bin", "_MLFLOW_SERVER_FILE_STORE": "b"}))
    assert a is not None and b is not None and a.key == b.key, "stores may differ"
    assert a.argv == ["python", "main.py", "host", "--host", "127.0.0.1"]
    prefixed = host_command_for(
        command(tmp_path, {"PATH": "/usr/bin", "_MLFLOW_STATIC_PREFIX": "/m"})
    )
    assert prefixed is not None and prefixed.key != a.key, "read at import: another host"
    assert host_command_for(command(tmp_path, {}, host="0.0.0.0")) is None
    assert host_command_for(command(tmp_path, {}, lean=False)) is None
