"""Start at login on Linux: the XDG autostart file, rewritten at each start."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from launcher.app import autostart
from launcher.app.autostart import XdgAutostart, desktop_exec, launch_command


@pytest.fixture
def xdg(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def exec_line(entry: XdgAutostart) -> str:
    text = entry.path.read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if line.startswith("Exec="))[5:]


def test_enable_writes_a_desktop_file_and_disable_removes_it(xdg, tmp_path: Path) -> None:
    entry = XdgAutostart(xdg, command=["/opt/launcher/mlflow-launcher"])
    assert not entry.is_enabled()
    entry.set_enabled(True)
    assert entry.path == tmp_path / "xdg" / "autostart" / "mlflow-launcher.desktop"
    assert entry.is_enabled()
    text = entry.path.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\nType=Application\n")
    assert exec_line(entry) == "/opt/launcher/mlflow-launcher"
    assert "Terminal=false" in text
    entry.set_enabled(False)
    assert not entry.path.exists()
    entry.set_enabled(False)  # idempotent


def test_refresh_follows_a_moved_launcher_and_never_enables(xdg) -> None:
    XdgAutostart(xdg, command=["/old/place/mlflow-launcher"]).set_enabled(True)
    moved = XdgAutostart(xdg, command=["/new place/mlflow-launcher"])
    moved.refresh()
    assert exec_line(moved) == '"/new place/mlflow-launcher"'
    moved.set_enabled(False)
    moved.refresh()
    assert not moved.is_enabled()


def test_default_location_is_dot_config(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    assert (
        XdgAutostart({}, command=["x"]).path
        == tmp_path / ".config/autostart/mlflow-launcher.desktop"
    )


def test_exec_quoting_follows_the_desktop_entry_spec() -> None:
    assert desktop_exec(["/usr/bin/python3", "-m", "launcher"]) == "/usr/bin/python3 -m launcher"
    assert desktop_exec(["/a b/py", "100%"]) == '"/a b/py" 100%%'
    # Inside quotes \ " ` $ get a backslash, then the key-file layer doubles every backslash.
    assert desktop_exec(['/x/$HOME "q"']) == '"/x/\\\\$HOME \\\\"q\\\\""'


def test_launch_command_frozen_is_the_exe_itself(monkeypatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/apps/MLflow Launcher/mlflow-launcher")
    assert launch_command() == ["/apps/MLflow Launcher/mlflow-launcher"]


def test_launch_command_prefers_the_installed_gui_script(monkeypatch, tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.touch()
    monkeypatch.setattr(sys, "executable", str(python))
    assert launch_command() == [str(python), "-m", "launcher"]
    (tmp_path / "bin" / "mlflow-launcher").touch()
    assert launch_command() == [str(tmp_path / "bin" / "mlflow-launcher")]


def test_for_this_os_on_linux_is_xdg(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    found = autostart.for_this_os()
    assert isinstance(found, XdgAutostart) and found.path.parent == tmp_path / "autostart"


def test_the_console_twin_points_login_at_the_windowed_exe(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "MLflowLauncher.exe").write_bytes(b"")
    (tmp_path / "MLflowLauncher-cli.exe").write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "MLflowLauncher-cli.exe"))
    assert launch_command() == [str(tmp_path / "MLflowLauncher.exe")]
    monkeypatch.setattr(sys, "executable", str(tmp_path / "MLflowLauncher.exe"))
    assert launch_command() == [str(tmp_path / "MLflowLauncher.exe")]
    (tmp_path / "MLflowLauncher.exe").unlink()  # a twin alone stays itself
    monkeypatch.setattr(sys, "executable", str(tmp_path / "MLflowLauncher-cli.exe"))
    assert launch_command() == [str(tmp_path / "MLflowLauncher-cli.exe")]
