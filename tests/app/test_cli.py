"""The command line, in-process for config commands and as a real subprocess for serve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from tests.server.helpers import gone, port_is_free, tree

REPO = Path(__file__).parents[2]


def cli(*args: str) -> int:
    return run_cli(list(args))


def test_add_edit_list_remove(
    paths: AppPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "mlruns"
    assert (
        cli("add", "Team", str(store), "--prefix", "dra_", "--server-args", "--static-prefix /ml")
        == 0
    )
    assert cli("edit", "team", "--name", "Team A", "--port", "5055") == 0
    assert cli("list", "--json") == 0
    out = capsys.readouterr().out
    rows = json.loads(out[out.index("[") :])
    team = next(r for r in rows if r["name"] == "Team A")
    assert team["prefix"] == "dra_" and team["port"] == 5055
    assert team["extra_args"] == ["--static-prefix", "/ml"]
    assert team["kind"] == "folder" and team["uri"] == store.as_uri()
    assert cli("remove", "Team A") == 0
    assert [p.name for p in ConfigStore(paths).load().config.projects] == ["Local"]


def test_relative_store_is_made_absolute(
    paths: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("add", "Rel", "runs/mlflow.db") == 0
    assert ConfigStore(paths).load().config.get("Rel").store == str(tmp_path / "runs" / "mlflow.db")


@pytest.mark.parametrize(
    "args",
    [
        ("add", "X", "s3://bucket"),
        ("add", "Local", "/tmp/x/mlruns"),
        ("edit", "Nope", "--prefix", "a"),
        ("remove", "Nope"),
        ("serve", "Nope"),
        ("add", "X", "/tmp/mlruns", "--server-args", "'unclosed"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: tuple[str, ...], paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    before = paths.config_file.read_bytes() if paths.config_file.exists() else None
    assert cli(*args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    if before is not None:
        assert paths.config_file.read_bytes() == before


def test_doctor_reports_count_and_exit_code(
    folder_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli("add", "Good", str(folder_store))
    cli("add", "Gone", str(tmp_path / "gone" / "mlruns"))
    capsys.readouterr()
    assert cli("doctor", "Good", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["experiments"] == 6  # five named + Default
    assert report["mlflow"]
    assert cli("doctor", "Gone") == 1
    assert "does not exist" in capsys.readouterr().out


def test_doctor_shows_an_old_schema_without_touching_it(
    sqlite_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "tests" / "stores.py"), "downgrade", str(sqlite_store), "2"],
        check=True,
        capture_output=True,
    )
    before = sqlite_store.read_bytes()
    cli("add", "Old", str(sqlite_store))
    capsys.readouterr()
    assert cli("doctor", "Old", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["schema"]["state"] == "older"
    assert report["schema"]["revision"] != report["schema"]["expected"]
    assert sqlite_store.read_bytes() == before


def _launch(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "launcher", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _url_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    # The server's root with its access key (the line people click).
    assert line.startswith("http://127.0.0.1:") and "/?launcher_key=" in line, line
    return line


@pytest.mark.process
def test_serve_prints_url_opens_browser_and_sigterm_stops_tree(
    folder_store: Path, tmp_path: Path
) -> None:
    cli("add", "P", str(folder_store))
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "browser.sh"
    recorder.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n')
    recorder.chmod(0o755)
    env = {**os.environ, "BROWSER": f"{recorder} %s"}
    proc = _launch(["serve", "P"], env)
    try:
        url = _url_line(proc)
        port = urllib.parse.urlsplit(url).port
        deadline = time.monotonic() + 10
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.read_text().strip() == url
        pids = tree(proc.pid)[1:]
        assert pids, "no server process under the launcher"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        proc.kill()
    assert gone(pids)
    assert port is not None and port_is_free(port)


@pytest.mark.process
def test_sigkilled_launcher_leaves_nothing(folder_store: Path) -> None:
    cli("add", "P", str(folder_store))
    proc = _launch(["serve", "P", "--no-browser"], dict(os.environ))
    try:
        url = _url_line(proc)
        pids = tree(proc.pid)[1:]
        assert pids
        proc.kill()
        proc.wait(5)
        assert gone(pids, timeout=10), "a server outlived its SIGKILLed launcher"
        assert port_is_free(urllib.parse.urlsplit(url).port or 0)
    finally:
        proc.kill()


@pytest.mark.process
def test_serve_failure_is_one_line_and_exit_1(tmp_path: Path) -> None:
    db = tmp_path / "not-mlflow.db"
    db.write_bytes(b"")
    cli("add", "Empty", str(db))
    proc = _launch(["serve", "Empty", "--no-browser"], dict(os.environ))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "no MLflow tables" in last
    assert "Traceback" not in err
    assert db.read_bytes() == b""


@pytest.mark.process
def test_remote_project_is_checked_and_opened_not_started(
    folder_store: Path, paths: AppPaths, servers: list, capsys: pytest.CaptureFixture[str]
) -> None:
    from launcher.model.project import Project
    from launcher.server.process import MlflowServer

    # A remote tracking server has no launcher key: one that does is not readable remotely.
    remote = MlflowServer(Project("Served", str(folder_store), access_key=False), paths)
    servers.append(remote)
    url = remote.start()
    assert cli("add", "Remote", url) == 0
    capsys.readouterr()
    assert cli("serve", "Remote", "--no-browser") == 0
    assert capsys.readouterr().out.strip() == url
    assert cli("doctor", "Remote", "--json") == 0
    assert json.loads(capsys.readouterr().out)["experiments"] == 6
    remote.stop()
    assert cli("serve", "Remote", "--no-browser") == 1
    assert "does not answer" in capsys.readouterr().err
