"""The warm spares with real MLflow servers: a spare serves what a fresh server serves, touches no
store before it is assigned, is replaced after use, and dies with the launcher; with N spares,
N projects opened back to back are all served by spares and the pool gets back to N."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import rest
from launcher.server.access_key import headers_for
from launcher.server.process import MlflowServer
from launcher.server.warm import spare_pool
from launcher.server.warm.spare import Spare
from launcher.server.warm.spare_pool import SparePool
from tests.server.helpers import gone, tree_hash

pytestmark = pytest.mark.process

WARM_TIMEOUT = 240.0
"""Generous: the import runs at low priority and this machine may be busy."""


@pytest.fixture
def pool(paths: AppPaths) -> Iterator[SparePool]:
    """A pool whose spare starts in the test itself: the spare takes the environment of the
    moment it starts, and pytest changes PYTEST_CURRENT_TEST between setup and call (a spare
    started in setup would, rightly, not fit)."""
    spares = SparePool(paths)
    yield spares
    spares.close()


def wait_warm(pool: SparePool, other_than: int | None = None) -> Spare:
    deadline = time.monotonic() + WARM_TIMEOUT
    while time.monotonic() < deadline:
        spare = pool.spare
        if spare is not None and spare.warm and spare.pid != other_than:
            return spare
        time.sleep(0.2)
    raise AssertionError("no warm spare appeared")


def wait_warm_count(pool: SparePool, count: int, other_than: Collection[int] = ()) -> list[Spare]:
    """The pool's state, not a clock: ``count`` warm spares, none of them in ``other_than``."""
    deadline = time.monotonic() + WARM_TIMEOUT * count
    while time.monotonic() < deadline:
        warm = [s for s in pool.spares if s.warm and s.pid not in other_than]
        if len(warm) >= count:
            return warm
        time.sleep(0.2)
    raise AssertionError(f"the pool did not get to {count} warm spares: {pool.spares}")


def http(url: str, data: bytes | None = None, method: str = "GET") -> bytes:
    """A request carrying the server's access key, as the launcher's own requests do."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers_for(url))
    if data is not None:
        req.add_header("Content-Type", "application/json" if method == "POST" else "text/plain")
    with urllib.request.urlopen(req, timeout=30) as response:
        return bytes(response.read())


def what_is_served(url: str) -> tuple[list[dict], list[dict]]:
    """Experiments and their runs (ids, params, metrics) as the REST API returns them."""
    experiments = sorted(rest.search_experiments(url), key=lambda e: e["experiment_id"])
    ids = [e["experiment_id"] for e in experiments]
    body = json.dumps({"experiment_ids": ids, "max_results": 1000}).encode()
    runs = json.loads(http(url + "api/2.0/mlflow/runs/search", body, "POST")).get("runs", [])
    runs.sort(key=lambda r: r["info"]["run_id"])
    return experiments, runs


@pytest.mark.parametrize("kind", ["folder", "sqlite"])
def test_spare_serves_exactly_what_a_fresh_server_serves(
    kind: str,
    request: pytest.FixtureRequest,
    paths: AppPaths,
    pool: SparePool,
    servers: list,
) -> None:
    store: Path = request.getfixturevalue(f"{kind}_store")
    before = tree_hash(store.parent)
    pool.ensure()
    spare = wait_warm(pool)
    assert tree_hash(store.parent) == before, "a spare wrote into the store before assignment"
    # Nor did its warm-up (every route matched once) open MLflow's default store where it runs.
    assert not {"mlruns", "mlflow.db"} & {p.name for p in Path(spare.command.cwd).iterdir()}

    project = Project("P", str(store))
    warm = MlflowServer(project, paths, spares=pool)
    servers.append(warm)
    url = warm.start()
    assert warm.pid == spare.pid, "the project was not served by the warm spare"
    assert url == f"http://127.0.0.1:{spare.port}/"
    served_warm = what_is_served(url)
    with pytest.raises(urllib.error.HTTPError) as refused:  # keyed like every lean server
        urllib.request.urlopen(url + "api/2.0/mlflow/experiments/search?max_results=5", timeout=30)
    assert refused.value.code == 403
    assert psutil.Process(spare.pid).environ().get("MLFLOW_DISABLE_TELEMETRY") == "true"
    run = served_warm[1][0]["info"]
    artifact = f"{run['experiment_id']}/{run['run_id']}/artifacts/spare-note.txt"
    http(url + "api/2.0/mlflow-artifacts/artifacts/" + artifact, b"from the spare", "PUT")
    assert http(url + "api/2.0/mlflow-artifacts/artifacts/" + artifact) == b"from the spare"
    log = warm.log_path.read_text(encoding="utf-8")
    assert "served by the warm spare" in log and "=== ready at" in log

    nxt = wait_warm(pool, other_than=spare.pid)
    assert nxt.pid != spare.pid and nxt.port != spare.port
    warm.stop()
    assert gone([spare.pid])

    fresh = MlflowServer(project, paths)  # no pool: today's path
    servers.append(fresh)
    fresh_url = fresh.start()
    assert fresh.pid != nxt.pid
    assert what_is_served(fresh_url) == served_warm
    assert http(fresh_url + "api/2.0/mlflow-artifacts/artifacts/" + artifact) == (b"from the spare")


def test_a_project_the_spare_cannot_serve_alike_takes_the_fresh_path(
    folder_store: Path, paths: AppPaths, pool: SparePool, servers: list
) -> None:
    pool.ensure()
    spare = wait_warm(pool)
    # A static prefix is read when MLflow's server is imported: the spare cannot take it.
    project = Project("Prefixed", str(folder_store), extra_args=["--static-prefix", "/ml"])
    server = MlflowServer(project, paths, spares=pool)
    servers.append(server)
    url = server.start()
    assert url.endswith("/ml/") and server.pid != spare.pid
    assert rest.is_healthy(url)
    assert pool.spare is spare, "the unused spare stays for the next project"


def test_spare_refuses_settings_read_at_import(paths: AppPaths, pool: SparePool) -> None:
    """Its own safety net: settings that differ in an import-time variable are refused."""
    spare = pool.ensure()
    assert spare is not None and spare.wait_for_port(30) is not None
    env = {**spare.command.env, "_MLFLOW_STATIC_PREFIX": "/ml"}
    assert spare.proc.stdin is not None
    spare.proc.stdin.write(
        (json.dumps({"env": env, "host": "127.0.0.1", "port": spare.port}) + "\n").encode()
    )
    spare.proc.stdin.flush()
    assert spare.proc.wait(WARM_TIMEOUT) == 6


def test_n_spares_serve_n_projects_opened_back_to_back_then_refill(
    folder_store: Path,
    sqlite_store: Path,
    paths: AppPaths,
    servers: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two spares, two projects (folder and SQLite) opened at once: both served by a spare, no
    store touched before its assignment, and the pool back to two warm spares afterwards."""
    monkeypatch.setattr(spare_pool, "memory_allows", lambda extra_mib=0: True)
    stores = [folder_store, sqlite_store]
    before = [tree_hash(store.parent) for store in stores]
    pool = SparePool(paths, count=2)
    try:
        pool.ensure()
        warm = wait_warm_count(pool, 2)
        assert all((s.import_priority or 0) >= 10 for s in warm), "an idle tray's import is niced"
        assert [tree_hash(store.parent) for store in stores] == before, (
            "a spare wrote into a store before assignment"
        )
        projects = [Project(f"P{i}", str(store)) for i, store in enumerate(stores)]
        opened = [MlflowServer(project, paths, spares=pool) for project in projects]
        servers.extend(opened)
        with ThreadPoolExecutor(len(opened)) as clicks:  # no wait between the clicks
            urls = list(clicks.map(lambda server: server.start(), opened))
        assert {server.pid for server in opened} == {s.pid for s in warm}
        for server, url in zip(opened, urls, strict=True):
            assert "served by the warm spare" in server.log_path.read_text(encoding="utf-8")
            assert rest.is_healthy(url)
        refilled = wait_warm_count(pool, 2, other_than={s.pid for s in warm})
        assert len(pool.spares) == 2 and all(s.warm for s in refilled)
        argv = [" ".join(psutil.Process(s.pid).cmdline()) for s in refilled]
        assert all("--priority normal" in a for a in argv), "a refill after clicks is not urgent"
        assert all(s.import_priority is None for s in refilled), "so its import is not niced"
    finally:
        pool.close()


def test_killed_launcher_leaves_no_spare(paths: AppPaths, tmp_path: Path) -> None:
    """With two spares: the holder is SIGKILLed once both run, and neither outlives it."""
    script = tmp_path / "holder.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from launcher.model.paths import app_paths
            from launcher.server.warm import spare_pool
            spare_pool.memory_allows = lambda extra_mib=0: True
            pool = spare_pool.SparePool(app_paths(), count=2)
            pool.ensure()
            while len(pool.spares) < 2:
                time.sleep(0.1)
            for spare in pool.spares:
                spare.wait_for_port(60)
            print(" ".join(str(s.pid) for s in pool.spares), flush=True)
            time.sleep(600)
            """
        )
    )
    holder = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert holder.stdout is not None
        pids = [int(pid) for pid in holder.stdout.readline().split()]
        assert len(pids) == 2 and not gone(pids, timeout=1)
        holder.send_signal(signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
        holder.wait(10)
        assert gone(pids, timeout=15), "a spare outlived its SIGKILLed launcher"
    finally:
        holder.kill()
