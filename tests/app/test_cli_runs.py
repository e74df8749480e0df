"""``mlflow-launcher runs``: a real training script on a folder store, listed and followed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.model.paths import AppPaths
from tests.server.helpers import tree_hash
from tests.server.runs.test_watch_stores import SCRIPT, _expect

REPO = Path(__file__).parents[2]


@pytest.mark.process
def test_runs_lists_and_follows(
    paths: AppPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mlruns"
    root.mkdir()
    assert run_cli(["add", "dra", str(root), "--prefix", "dra_"]) == 0
    assert run_cli(["remove", "Local"]) == 0
    env = {**os.environ, "MLFLOW_TRACKING_URI": root.as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"}
    env["PYTHONPATH"] = str(REPO)
    train = subprocess.Popen([sys.executable, str(SCRIPT)], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    follow = subprocess.Popen(
        [sys.executable, "-m", "launcher", "runs", "dra", "--follow", "--json",
         "--interval", "0.3", "--stall-minutes", "0.05"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _expect(train, "ready")
        assert follow.stderr is not None
        assert follow.stderr.readline().startswith("Watching 1 project(s)")
        time.sleep(1.5)  # its first look (which only records) is done
        assert train.stdin is not None
        train.stdin.write("go\n")
        train.stdin.flush()
        _expect(train, "hanging")
        train.send_signal(signal.SIGKILL)
        train.wait(30)
        assert follow.stdout is not None
        events = [json.loads(follow.stdout.readline()) for _ in range(3)]
        assert sorted((e["event"], e["name"]) for e in events) == [
            ("FAILED", "boom"), ("FINISHED", "good"), ("STALLED", "hang")]  # fmt: skip
    finally:
        for proc in (train, follow):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if proc is follow else signal.SIGKILL)
        assert follow.wait(30) == 0
        train.wait(30)

    before = tree_hash(root)
    capsys.readouterr()
    assert run_cli(["runs", "dra", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["runs"][0]["name"] == "hang" and listed["runs"][0]["status"] == "RUNNING"
    assert {r["name"] for r in listed["runs"]} == {"hang", "good", "boom"}
    assert run_cli(["runs", "--active"]) == 0  # no names, no tray yet: every project
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dra  dra_train_001_watch  hang  RUNNING")
    assert "loss 0.7 @4" in lines[0]
    assert tree_hash(root) == before


def test_runs_bad_since_and_unreachable(
    paths: AppPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["add", "gone", str(tmp_path / "share-gone" / "nothing.db")]) == 0
    assert run_cli(["runs", "gone", "--since", "soon"]) == 2
    assert run_cli(["runs", "gone"]) == 1
    assert "gone: store unreachable" in capsys.readouterr().err
