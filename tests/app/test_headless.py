"""Without a desktop, ``mlflow-launcher`` serves the last used project instead of aborting in Qt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from launcher.app.headless import has_desktop
from launcher.model.config import DEFAULT_PROJECT, Config, Settings, last_used
from launcher.model.project import Project
from tests.server.helpers import gone, port_is_free, tree

REPO = Path(__file__).parents[2]


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb:foo", "DISPLAY": ":0"}, "linux", True),
        ({}, "freebsd14", False),
        ({}, "win32", True),
        ({}, "darwin", True),
    ],
)
def test_desktop_is_decided_from_the_environment(
    env: dict[str, str], platform: str, expected: bool
) -> None:
    assert has_desktop(env, platform) is expected


def test_last_used_falls_back_to_local() -> None:
    config = Config(projects=[Project("A", "/x/mlruns")], settings=Settings(last_project="A"))
    assert last_used(config) == "A"
    config.settings.last_project = "Gone"
    assert last_used(config) == DEFAULT_PROJECT
    config.settings.last_project = ""
    assert last_used(config) == DEFAULT_PROJECT


@pytest.mark.process
@pytest.mark.skipif(sys.platform == "win32", reason="a Windows session always has a desktop")
def test_no_desktop_serves_the_first_run_project(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    opened = tmp_path / "opened.txt"
    env["BROWSER"] = f"sh -c 'echo %s > {opened}'"
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stderr.readline()
        assert first.startswith("No desktop here"), first
        keyed = proc.stdout.readline().strip()  # the one line to click: it carries the key
        url, _, key = keyed.partition("?launcher_key=")
        assert url.startswith("http://127.0.0.1:") and url.endswith("/") and key, keyed
        with urllib.request.urlopen(url + "health", timeout=10) as response:
            assert response.read() == b"OK"
        pids = tree(proc.pid)[1:]
        assert pids, "no server process under the launcher"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        proc.kill()
    assert gone(pids)
    assert port_is_free(int(url.rsplit(":", 1)[1].strip("/")))
    assert not opened.exists(), "no desktop: the URL is printed, no browser is started"
