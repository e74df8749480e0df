"""One tray per user: a second start hands over to the first, through a real local socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from launcher.model.paths import AppPaths, app_paths
from launcher.ui.tray.instance import InstanceServer, hand_over, instance_name
from tests.ui.helpers import write_config

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[2]


def launcher_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MLFLOW_LAUNCHER_HOME"] = str(home)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_names_differ_per_launcher_home(tmp_path: Path) -> None:
    a = instance_name(app_paths({"MLFLOW_LAUNCHER_HOME": str(tmp_path / "a")}))
    b = instance_name(app_paths({"MLFLOW_LAUNCHER_HOME": str(tmp_path / "b")}))
    assert a != b and a.startswith("mlflow-launcher-") and len(a) < 80


def test_a_second_start_hands_over_its_project_and_exits(qtbot, paths: AppPaths, app_home) -> None:
    server = InstanceServer(instance_name(paths))
    assert server.listen()
    try:
        for args, expected in (
            (["open", "Team share"], {"command": "open", "name": "Team share"}),
            ([], {"command": "activate"}),
        ):
            with qtbot.waitSignal(server.received, timeout=15_000) as got:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "launcher", *args], env=launcher_env(app_home),
                    cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                )  # fmt: skip
            out, _ = proc.communicate(timeout=15)
            assert proc.returncode == 0, out.decode()
            assert got.args == [expected]
    finally:
        server.close()


def test_a_second_start_loads_no_widgets(qtbot, paths: AppPaths, app_home) -> None:
    """A click on a shortcut while the tray runs: only the instance channel is loaded."""
    server = InstanceServer(instance_name(paths))
    assert server.listen()
    probe = (
        "import sys; from launcher.app.main import main; code = main(['open', 'P']); "
        "print(sorted(m for m in ('PySide6.QtWidgets', 'PySide6.QtGui', 'launcher.app.start_tray')"
        " if m in sys.modules)); sys.exit(code)"
    )
    try:
        with qtbot.waitSignal(server.received, timeout=15_000):
            proc = subprocess.Popen(
                [sys.executable, "-c", probe], env=launcher_env(app_home), cwd=REPO,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, out.decode()
        assert out.decode().strip().splitlines()[-1] == "[]", out.decode()
    finally:
        server.close()


def test_nothing_is_sent_when_no_instance_runs(paths: AppPaths) -> None:
    assert hand_over(instance_name(paths), {"command": "activate"}, timeout_ms=200) is False


@pytest.mark.skipif(os.name == "nt", reason="stale socket files are a Unix thing")
def test_a_stale_socket_from_a_crash_is_replaced(qtbot, paths: AppPaths) -> None:
    name = instance_name(paths)
    QLocalServer.removeServer(name)
    stale = socket.socket(socket.AF_UNIX)
    path = Path("/tmp") / name  # where QLocalServer puts it (QDir::tempPath)
    if os.environ.get("TMPDIR"):
        path = Path(os.environ["TMPDIR"]) / name
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens: what a crashed tray leaves
    server = InstanceServer(name)
    try:
        assert server.listen()
        client = QLocalSocket()
        client.connectToServer(name)  # not hand_over: it would block this thread's server
        qtbot.waitUntil(
            lambda: client.state() == QLocalSocket.LocalSocketState.ConnectedState, timeout=5000
        )
        with qtbot.waitSignal(server.received, timeout=5000) as got:
            client.write(b'{"command": "activate"}\n')
        assert got.args == [{"command": "activate"}]
        qtbot.waitUntil(lambda: client.bytesAvailable() > 0, timeout=5000)
        assert bytes(client.readAll().data()) == b"ok\n"
        client.disconnectFromServer()
    finally:
        server.close()


def test_the_real_tray_is_single_and_quits_on_sigterm(tmp_path: Path, app_home: Path) -> None:
    """Two real starts: the second hands over and exits 0; SIGTERM ends the first cleanly."""
    write_config(app_paths(), [], last_project="")
    env = launcher_env(app_home)
    log = app_home / "logs" / "launcher.log"
    first = subprocess.Popen([sys.executable, "-m", "launcher"], env=env, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_for(lambda: log.exists() and "tray shown" in log.read_text(), 20)
        second = subprocess.run([sys.executable, "-m", "launcher", "open", "Nope"], env=env,
                                cwd=REPO, capture_output=True, timeout=30)  # fmt: skip
        assert second.returncode == 0, second.stdout + second.stderr
        _wait_for(lambda: "second start asked for" in log.read_text(), 10)
        assert first.poll() is None
        if os.name != "nt":
            first.send_signal(signal.SIGTERM)
            assert first.wait(20) == 0
            assert "signal received: quitting" in log.read_text()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def _wait_for(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")
