"""End to end: the real tray app under Xvfb with a tray host, a real server, SIGTERM.

Skipped, with the reason, where Xvfb or trayer are not installed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from launcher.server import rest
from tests.app import xsession
from tests.ui.fakes import alive

MISSING = xsession.available(tray=True)
pytestmark = [
    pytest.mark.gui,
    pytest.mark.process,
    pytest.mark.skipif(MISSING is not None, reason=f"end-to-end tray test {MISSING}"),
]

REPO = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_real_tray_under_xvfb_opens_a_project_and_sigterm_leaves_nothing(
    app_home: Path, tmp_path: Path
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    log = app_home / "logs" / "launcher.log"
    with xsession.XSession(tray=True) as x:
        env = x.env
        env.update(MLFLOW_LAUNCHER_HOME=str(app_home), BROWSER=str(browser),
                   PYTHONPATH=str(REPO))  # fmt: skip
        started = time.monotonic()
        tray = subprocess.Popen([sys.executable, "-m", "launcher"], env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            wait_for(lambda: log.exists() and "tray shown" in log.read_text(), 30, "tray shown")
            line = next(s for s in log.read_text().splitlines() if "tray shown" in s)
            assert "platform xcb; tray shown (tray)" in line  # a real tray icon, not the window
            assert time.monotonic() - started < 15
            # A second start hands the project over: the default project on first run.
            second = subprocess.run([sys.executable, "-m", "launcher", "open", "Local"],
                                    env=env, cwd=REPO, capture_output=True, timeout=60)  # fmt: skip
            assert second.returncode == 0, second.stdout + second.stderr
            wait_for(lambda: opened.exists() and opened.read_text().strip(), 120, "the browser")
            url = opened.read_text().split()[0]
            assert url.startswith("http://127.0.0.1:") and rest.is_healthy(url)
            children = psutil.Process(tray.pid).children(recursive=True)
            assert children, "the server should be a child of the tray"
            pids = [tray.pid, *(c.pid for c in children)]
            tray.send_signal(signal.SIGTERM)
            assert tray.wait(30) == 0
            assert alive(pids) == []
            assert not rest.is_healthy(url)
            text = log.read_text()
            assert "signal received: quitting" in text and "servers stopped" in text
            assert "heavy modules in the tray process: none" in text  # MLflow runs in children
        finally:
            if tray.poll() is None:
                tray.kill()
                tray.wait()
