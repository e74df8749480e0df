"""`mlflow-launcher quit`: a real tray process asked through its single-instance channel."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.model.paths import AppPaths
from launcher.ui.tray.instance import InstanceLock
from tests.app.test_tray_instance import REPO, launcher_env

pytestmark = pytest.mark.gui


def test_quit_with_nothing_running_says_so(paths: AppPaths, capsys) -> None:
    assert run_cli(["quit"]) == 0
    assert "No MLflow Launcher is running" in capsys.readouterr().out


def test_quit_fails_when_the_lock_is_held_but_nobody_answers(paths: AppPaths, capsys) -> None:
    lock = InstanceLock(paths)  # a tray that is starting, or hung before it listens
    assert lock.acquire()
    try:
        assert run_cli(["quit"]) == 1
    finally:
        lock.release()
    assert "does not answer" in capsys.readouterr().err


def test_quit_stops_a_running_tray_and_waits_until_it_is_gone(
    paths: AppPaths, app_home: Path, capsys
) -> None:
    tray = subprocess.Popen(
        [sys.executable, "-m", "launcher"], env=launcher_env(app_home), cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "tray shown" not in _log(paths):
            assert tray.poll() is None, tray.communicate()[0].decode()
            assert time.monotonic() < deadline, "the tray did not come up"
            time.sleep(0.2)
        assert run_cli(["quit", "--timeout", "60"]) == 0
        out = capsys.readouterr().out
        assert "Asked MLflow Launcher to quit" in out and "has quit" in out
        assert tray.wait(30) == 0
        log = _log(paths)
        assert "asked to quit through the single-instance channel" in log
        assert "tray exited with 0" in log
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait(10)


def _log(paths: AppPaths) -> str:
    return paths.app_log.read_text("utf-8") if paths.app_log.exists() else ""


def test_the_frozen_app_bundles_the_command_modules() -> None:
    """commands/__init__.py imports them by name, which PyInstaller's analysis cannot see."""
    spec = (REPO / "launcher.spec").read_text("utf-8")
    assert '*collect_submodules("launcher.app.commands")' in spec
