"""Experiments created through a launcher server take artifacts from scripts logging to the store.

The everyday workflow of the issue: create an experiment in the UI the launcher serves, then run
the team's training script, which logs to the store itself (not through the server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.checks import doctor
from launcher.server.process import MlflowServer

pytestmark = pytest.mark.process

SCRIPT = textwrap.dedent(
    """
    import sys, mlflow
    store, name = sys.argv[1], sys.argv[2]
    mlflow.set_tracking_uri(store)
    mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        mlflow.log_param("lr", "0.1")
        mlflow.log_metric("loss", 0.25)
        mlflow.log_text("hello from the script", "notes/hello.txt")
    print(run.info.run_id)
    """
)


def api(server: MlflowServer, path: str, body: dict[str, Any] | None = None) -> Any:
    url = f"{server.url}ajax-api/2.0/mlflow/{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        headers={
            "Authorization": f"Bearer {server.access_key}",
            "Content-Type": "application/json",
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=60) as response:
        raw = response.read()
    return json.loads(raw) if raw.strip().startswith(b"{") else raw.decode()


@pytest.mark.parametrize("kind", ["folder", "sqlite"])
def test_an_experiment_created_in_the_ui_takes_a_scripts_artifacts(
    kind: str, request: pytest.FixtureRequest, paths: AppPaths, servers: list
) -> None:
    store: Path = request.getfixturevalue(f"{kind}_store")
    project = Project("P", str(store))
    server = MlflowServer(project, paths)
    servers.append(server)
    server.start()

    # The UI's "Create experiment".
    created = api(server, "experiments/create", {"name": "made_in_the_ui"})
    experiment = api(server, f"experiments/get?experiment_id={created['experiment_id']}")
    location = experiment["experiment"]["artifact_location"]
    assert not location.startswith("mlflow-artifacts:"), location
    if kind == "folder":
        assert location.startswith(store.as_uri()), location  # inside the store
    else:
        assert location.startswith(paths.artifacts_dir(project.slug).as_uri()), location

    # The team's script, logging straight to the store.
    tracking = str(store) if kind == "folder" else f"sqlite:///{store}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    ran = subprocess.run(
        [sys.executable, "-c", SCRIPT, tracking, "made_in_the_ui"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    run_id = ran.stdout.strip().splitlines()[-1]

    # ...and the server shows what it logged.
    run = api(server, f"runs/get?run_id={run_id}")["run"]
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"lr": "0.1"}
    assert [m["value"] for m in run["data"]["metrics"]] == [0.25]
    listed = api(server, f"artifacts/list?run_id={run_id}&path=notes")
    assert [f["path"] for f in listed["files"]] == ["notes/hello.txt"]
    query = urllib.parse.urlencode({"run_uuid": run_id, "path": "notes/hello.txt"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    get = urllib.request.Request(
        f"{server.url}get-artifact?{query}",
        headers={"Authorization": f"Bearer {server.access_key}"},
    )
    with opener.open(get, timeout=60) as response:
        assert response.read() == b"hello from the script"

    report = doctor.diagnose(project, paths)
    artifacts = next(f for f in report.findings if f.topic == "artifacts")
    assert artifacts.level == ("ok" if kind == "folder" else "warning"), artifacts
    assert ("inside the store" in artifacts.text) == (kind == "folder")


def test_roots_by_store_kind(paths: AppPaths, tmp_path: Path) -> None:
    from launcher.model.stores import parse_store
    from launcher.server.stores.artifact_root import root_for

    folder = Project("F", str(tmp_path / "mlruns"))
    assert root_for(folder, parse_store(folder.store), paths) == (tmp_path / "mlruns").as_uri()
    db = Project("D", str(tmp_path / "x.db"))
    assert root_for(db, parse_store(db.store), paths) == paths.artifacts_dir(db.slug).as_uri()
    shared = Project("S", str(tmp_path / "x.db"), artifacts=str(tmp_path / "share" / "art"))
    assert root_for(shared, parse_store(shared.store), paths) == (tmp_path / "share/art").as_uri()
    s3 = Project("S", str(tmp_path / "x.db"), artifacts="s3://bucket/mlflow")
    assert root_for(s3, parse_store(s3.store), paths) == "s3://bucket/mlflow"


@pytest.mark.parametrize(
    "text",
    [r"\\fileserver\mlshare\team\mlruns", "//fileserver/mlshare/team/mlruns",
     "file://fileserver/mlshare/team/mlruns"],
)  # fmt: skip
def test_a_share_s_root_is_its_unc_path(paths: AppPaths, text: str) -> None:
    """MLflow on Windows opens a file://server/... store but refuses that URI as an artifact
    root ("is not a valid remote uri"): the share's root is its UNC path, as a client has it.
    (Found by the installer check under Wine, where the UNC step serves a real share.)"""
    from launcher.model.stores import parse_store
    from launcher.server.stores.artifact_root import root_for

    store = parse_store(text, windows=True)
    project = Project("Team", text)
    assert root_for(project, store, paths) == r"\\fileserver\mlshare\team\mlruns"
