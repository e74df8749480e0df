"""Real lean servers behind their access key: nobody without it gets in, everyone with it does."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from launcher.app.cli import run_cli
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import access_key, rest
from launcher.server.child.access_gate import cookie_name
from launcher.server.process import MlflowServer
from tests.browser import CHROMIUM, dom_of
from tests.conftest import EXPERIMENTS
from tests.server.helpers import tree
from tests.started import link

pytestmark = pytest.mark.process

ROUTES = [
    ("GET", "/"),
    ("GET", "/index.html"),
    ("GET", "/version"),
    ("GET", "/static-files/favicon.ico"),
    ("GET", "/ajax-api/2.0/mlflow/experiments/search?max_results=10"),
    ("GET", "/api/2.0/mlflow/experiments/search?max_results=10"),
    ("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=scratch%20notes"),
    ("POST", "/api/2.0/mlflow/experiments/create"),
    ("POST", "/ajax-api/2.0/mlflow/runs/search"),
    ("GET", "/ajax-api/2.0/mlflow/registered-models/search"),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts"),
    ("GET", "/get-artifact?path=x&run_uuid=y"),
    ("GET", "/ajax-api/3.0/mlflow/traces?experiment_ids=0"),
    ("GET", "/metrics"),
]


def request(
    server: MlflowServer, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    assert server.port is not None
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        body = "{}" if method == "POST" else None
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=body, headers=hdrs)
        response = conn.getresponse()
        return (
            response.status,
            dict(response.getheaders()),
            response.read().decode("utf-8", "replace"),
        )
    finally:
        conn.close()


def start(project: Project, paths: AppPaths, servers: list) -> MlflowServer:
    server = MlflowServer(project, paths)
    servers.append(server)
    server.start()
    return server


def test_a_lean_server_lets_in_only_who_holds_its_key(
    folder_store: Path, paths: AppPaths, servers: list, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["add", "P", str(folder_store)], paths) == 0
    project = Project("P", str(folder_store))
    server = start(project, paths, servers)
    key = server.access_key
    assert server.lean and key and len(key) >= 22  # >= 128 bits, url-safe
    bearer = {"Authorization": f"Bearer {key}"}

    for method, path in ROUTES:
        status, _, body = request(server, method, path)
        assert status == 403, (method, path, status)
        assert "mlflow-launcher url" in body
        assert request(server, method, path, {"Authorization": "Bearer wrong"})[0] == 403
    assert request(server, "GET", "/health") == (200, request(server, "GET", "/health")[1], "OK")

    status, _, body = request(server, "GET", ROUTES[4][1], bearer)
    assert status == 200 and "scratch notes" in body
    assert request(server, "GET", "/", bearer)[0] == 200

    # The link: a cookie named for this server, and a redirect to the same route without the key.
    status, headers, _ = request(server, "GET", f"/?launcher_key={key}&o=1")
    assert status == 302 and headers["location"] == "/?o=1"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(server.port or 0)}={key}")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    jar = {"Cookie": cookie.split(";", 1)[0]}
    assert request(server, "GET", "/", jar)[0] == 200
    assert request(server, "GET", ROUTES[4][1], jar)[0] == 200

    # The launcher's own REST calls carry the key; the CLI prints it for everyone else.
    assert set(EXPERIMENTS) <= {e["name"] for e in rest.search_experiments(link(server))}
    capsys.readouterr()
    assert run_cli(["url", "P"], paths) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{server.url}?launcher_key={key}", f"MLFLOW_TRACKING_TOKEN={key}"]

    # A script logging through the server with the token; without it, refused.
    script = textwrap.dedent(
        """
        import mlflow, sys
        mlflow.set_experiment("through the gate")
        with mlflow.start_run():
            mlflow.log_param("p", 1)
            mlflow.log_metric("m", 2.0)
            mlflow.log_text("hello", "note.txt")
        print("logged")
        """
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.url or "", "MLFLOW_TRACKING_TOKEN": key}
    env.pop("MLFLOW_LAUNCHER_HOME", None)
    ok = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180
    )
    assert ok.returncode == 0 and "logged" in ok.stdout, ok.stderr[-2000:]
    del env["MLFLOW_TRACKING_TOKEN"]
    env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    refused = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180
    )
    assert refused.returncode != 0 and "403" in refused.stderr

    # The key is in no argv, no log and no config.
    assert server.pid is not None
    for pid in tree(server.pid):
        assert key not in " ".join(psutil.Process(pid).cmdline())
    pid = server.pid
    server.stop()
    log = server.log_path.read_text(encoding="utf-8")
    assert '"GET /?o=1 HTTP/1.1" 302' in log  # the link's request was logged, without its key
    assert key not in log and "launcher_key" not in log
    assert key not in paths.config_file.read_text(encoding="utf-8")
    assert access_key.running(paths, project) is None, "the running file outlived the server"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert run_cli(["url", "P"], paths) == 1
    assert "not running" in capsys.readouterr().err


def test_a_project_can_turn_its_key_off_and_doctor_says_so(
    folder_store: Path, paths: AppPaths, servers: list, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["add", "P", str(folder_store), "--no-access-key"], paths) == 0
    assert '"access_key": false' in paths.config_file.read_text(encoding="utf-8")
    assert run_cli(["doctor", "P"], paths) == 0
    assert "access key turned off" in capsys.readouterr().out
    from launcher.model.config import ConfigStore

    project = ConfigStore(paths).load().config.get("P")
    server = start(project, paths, servers)
    assert server.access_key is None
    assert request(server, "GET", "/api/2.0/mlflow/experiments/search?max_results=10")[0] == 200
    capsys.readouterr()
    assert run_cli(["url", "P"], paths) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == server.url and "turned off" in captured.err
    server.stop()
    assert run_cli(["edit", "P", "--access-key"], paths) == 0
    assert '"access_key": true' in paths.config_file.read_text(encoding="utf-8")
    assert run_cli(["doctor", "P"], paths) == 0
    assert "protected by an access key" in capsys.readouterr().out


def test_the_fallback_is_marked_unprotected(
    folder_store: Path, paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--server-args", "--uvicorn-opts '--timeout-keep-alive 7'"]
    assert run_cli(["add", "F", str(folder_store), *args], paths) == 0
    run_cli(["doctor", "F"], paths)
    assert "not protected: served by `mlflow server`" in capsys.readouterr().out


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_a_real_browser_opened_on_the_launchers_link_shows_the_experiments(
    folder_store: Path, paths: AppPaths, servers: list
) -> None:
    server = start(Project("P", str(folder_store)), paths, servers)
    experiment_id = next(
        p.name
        for p in folder_store.iterdir()
        if (p / "meta.yaml").is_file()
        and "dra_train_002_bigger_lr" in (p / "meta.yaml").read_text(encoding="utf-8")
    )
    url = access_key.with_key(f"{server.url}#/experiments/{experiment_id}", server.access_key)
    assert "launcher_key=" in url
    dom = dom_of(url)
    assert "403 Forbidden" not in dom
    # The route survived the redirect: the experiment's own page names it.
    assert "dra_train_002_bigger_lr" in dom, dom[-3000:]
