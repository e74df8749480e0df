"""The fast view: a folder store served from a local read-only copy. Every writing endpoint
MLflow exposes is refused with an MLflow-style error, the reads the UI needs are served, the UI's
runs page renders in headless Chromium, and a refresh builds a new file beside the served one."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from launcher.app.cli import run_cli
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.access_key import with_key
from launcher.server.child.readonly_guard import READ_ONLY_POSTS
from launcher.server.process import MlflowServer
from launcher.server.stores import fast_view
from tests.browser import dom_of
from tests.server.helpers import tree_hash
from tests.started import Servers

pytestmark = pytest.mark.process


def _call(servers: Servers, url: str, method: str = "GET", body: Any = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    # With the server's access key, as the launcher's own requests: the read-only guard is
    # what is tested here, behind the access gate.
    request = urllib.request.Request(url, data=data, method=method, headers=servers.headers(url))
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _writing_endpoints() -> list[tuple[str, str]]:
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.server import handlers

    out = []
    for path, _fn, methods in handlers.get_endpoints():
        match = re.search(r"(?:ajax-)?api/\d+\.\d+/?(.*)$", path)
        key = match.group(1) if match else path
        for method in methods:
            if method in ("GET", "HEAD") or path.endswith("/graphql") or key in READ_ONLY_POSTS:
                continue
            out.append((method, re.sub(r"<(?:path:)?[^>]+>", "x", path)))
    return out


def _ids(servers: Servers, base: str) -> tuple[str, str]:
    status, body = _call(
        servers, base + "ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=alpha"
    )
    assert status == 200, body
    experiment = json.loads(body)["experiment"]["experiment_id"]
    status, body = _call(
        servers,
        base + "ajax-api/2.0/mlflow/runs/search",
        "POST",
        {"experiment_ids": [experiment], "filter": "attributes.run_name = 'parent'"},
    )
    return experiment, json.loads(body)["runs"][0]["info"]["run_id"]


def test_fast_view_is_read_only_and_serves_the_ui(
    paths: AppPaths, rich_store: Path, servers: Servers
) -> None:
    project = Project(name="team", store=str(rich_store), fast_view=True)
    before = tree_hash(rich_store.parent)
    server = MlflowServer(project, paths)
    servers.append(server)
    base = server.start()
    assert server.fast_view is not None and server.fast_view.path.is_file()
    experiment, run = _ids(servers, base)

    writers = _writing_endpoints()
    assert len(writers) > 100
    for method, path in writers:
        status, body = _call(servers, base + path.lstrip("/"), method, {})
        assert status == 403, (method, path, status)
        error = json.loads(body)
        assert error["error_code"] == "PERMISSION_DENIED"
        assert "read-only fast view" in error["message"] and "--no-fast-view" in error["message"]

    api = base + "ajax-api/2.0/mlflow/"
    reads: list[tuple[str, str, Any]] = [
        ("POST", api + "experiments/search", {"max_results": 1000}),
        (
            "POST",
            api + "runs/search",
            {"experiment_ids": [experiment], "max_results": 100, "order_by": ["start_time DESC"]},
        ),
        ("GET", api + f"experiments/get?experiment_id={experiment}", None),
        ("GET", api + f"runs/get?run_id={run}", None),
        ("GET", api + f"metrics/get-history?run_id={run}&metric_key=loss", None),
        (
            "GET",
            api + f"metrics/get-history-bulk-interval?run_ids={run}&metric_key=loss"
            "&max_results=320",
            None,
        ),
        ("GET", api + f"artifacts/list?run_id={run}", None),
        ("GET", api + "registered-models/search?max_results=10", None),
        ("GET", api + "model-versions/search?filter=name%3D%27classifier%27", None),
        (
            "POST",
            base + "graphql",
            {
                "query": "query Q($input: MlflowGetRunInput) { mlflowGetRun(input: $input) "
                "{ run { info { runName } } } }",
                "variables": {"input": {"runId": run}},
            },
        ),
    ]
    answers = []
    for method, url, body in reads:
        status, content = _call(servers, url, method, body)
        assert status == 200, (url, status, content[:300])
        answers.append(json.loads(content))
    assert answers[-1]["data"]["mlflowGetRun"]["run"]["info"]["runName"] == "parent"
    # the parent and its two nested runs; the deleted run is not listed
    assert len(answers[1]["runs"]) == 3
    status, content = _call(servers, base + f"get-artifact?path=notes/readme.txt&run_uuid={run}")
    assert (status, content) == (200, b"hello"), "artifacts come from the store's own folder"

    logged = len(server.log_path.read_bytes())
    dom = dom_of(with_key(f"{base}#/experiments/{experiment}/runs", server.access_key))
    assert 'role="grid"' in dom and ">parent<" in dom, "the runs table did not render"
    assert 'role="alert"' not in dom and "PERMISSION_DENIED" not in dom
    requests = server.log_path.read_bytes()[logged:].decode("utf-8", "replace")
    assert "/runs/search" in requests and '" 403' not in requests, "the UI was refused something"
    assert tree_hash(rich_store.parent) == before, "the folder store changed"


def test_refresh_builds_a_new_file_and_keeps_the_served_one(
    paths: AppPaths, rich_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["add", "team", str(rich_store)], paths) == 0
    assert run_cli(["refresh", "team"], paths) == 2  # not a fast view
    assert run_cli(["edit", "team", "--fast-view"], paths) == 0
    project = ConfigStore(paths).load().config.get("team")
    assert project.fast_view
    assert run_cli(["refresh", "team"], paths) == 0
    first = fast_view.latest(paths, project)
    assert first is not None
    assert run_cli(["refresh", "team"], paths) == 0
    second = fast_view.latest(paths, project)
    assert second is not None and second.path != first.path and first.path.is_file()
    assert "view of" in capsys.readouterr().err
    fast_view.prune(paths, project, keep=1)
    assert [s.path for s in fast_view.views(paths, project)] == [second.path]
    assert not [p for p in second.path.parent.iterdir() if p.name.startswith(".")]


def test_fast_view_is_for_folder_stores(paths: AppPaths, sqlite_store: Path) -> None:
    assert run_cli(["add", "db", str(sqlite_store), "--fast-view"], paths) == 2
