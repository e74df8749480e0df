"""One host process serves many projects with real MLflow servers: each on its own port, key,
stores, log and read-only guard; a project's request never reaches another's store, a hanging
store stalls only its own project, and a host that dies brings each project back on its port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import rest
from launcher.server.process import MlflowServer
from launcher.server.state import State
from launcher.server.warm.host_pool import HostPool
from tests.server import postgres
from tests.server.helpers import gone, port_is_free, tree_hash
from tests.started import Servers

pytestmark = pytest.mark.process

LOAD = Path(__file__).with_name("host_load.py")
LOAD_SECONDS = 8.0


@pytest.fixture
def pool(paths: AppPaths) -> Iterator[HostPool]:
    """Made in the test itself: the host takes the environment of the moment it starts, and
    pytest changes PYTEST_CURRENT_TEST between setup and call (a host started in setup would,
    rightly, not fit)."""
    lost: list[list[str]] = []
    hosts = HostPool(paths, on_lost=lost.append)
    hosts.lost = lost  # type: ignore[attr-defined]
    yield hosts
    hosts.close()


def http(
    servers: Servers, url: str, data: bytes | None = None, method: str = "GET", key_of: str = ""
) -> bytes:
    """A request carrying a server's key (``key_of``'s: another server's, to be refused)."""
    headers = servers.headers(key_of or url)
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as response:
        return bytes(response.read())


def experiment_names(servers: Servers, url: str) -> set[str]:
    return {e["name"] for e in rest.search_experiments(servers.link(url))}


def status_of(call: callable) -> int:  # type: ignore[valid-type]
    try:
        call()
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


def serve(paths: AppPaths, pool: HostPool, servers: Servers, *projects: Project) -> list[str]:
    started = [MlflowServer(p, paths, hosts=pool, upgrade_schema=True) for p in projects]
    servers.extend(started)
    return [s.start() for s in started]


def three_kinds(folder: Path, sqlite: Path, rich: Path) -> list[Project]:
    """A folder store, a SQLite store and a fast view: one host serves all three kinds."""
    return [
        Project("Folder", str(folder)),
        Project("Lite", str(sqlite)),
        Project("View", str(rich), fast_view=True),
    ]


def test_one_host_serves_each_project_its_own(
    folder_store: Path, sqlite_store: Path, rich_store: Path, paths: AppPaths, pool: HostPool,
    servers: Servers,
) -> None:  # fmt: skip
    before = tree_hash(rich_store.parent)
    projects = three_kinds(folder_store, sqlite_store, rich_store)
    urls = serve(paths, pool, servers, *projects)
    pids = {s.pid for s in servers}
    assert len(pids) == 1 and len(set(urls)) == 3, "one process, three ports"
    assert all(s.hosted for s in servers)
    assert pool.warm_host() is None or pool.warm_host().pid in pids  # type: ignore[union-attr]
    own = [experiment_names(servers, u) for u in urls]
    assert own[2] != own[0], own  # (the folder and SQLite templates have the same names)
    assert own[0] == {"Default", *experiment_names_of(folder_store)}
    # A's key does not open B.
    search = "api/2.0/mlflow/experiments/search?max_results=5"
    assert status_of(lambda: http(servers, urls[1] + search, key_of=urls[0])) == 403
    assert status_of(lambda: http(servers, urls[1] + search)) == 200
    # The fast view refuses a write that lands on the folder project beside it.
    create = json.dumps({"name": "written"}).encode()
    assert (
        status_of(
            lambda: http(servers, urls[2] + "api/2.0/mlflow/experiments/create", create, "POST")
        )
        == 403
    )
    assert (
        status_of(
            lambda: http(servers, urls[0] + "api/2.0/mlflow/experiments/create", create, "POST")
        )
        == 200
    )
    assert "written" in experiment_names(servers, urls[0])
    assert "written" not in experiment_names(servers, urls[1]) | experiment_names(servers, urls[2])
    assert tree_hash(rich_store.parent) == before
    # Each project's requests are in its own log only.
    logs = [s.log_path.read_text("utf-8") for s in servers]
    assert "experiments/create" in logs[0] and "experiments/create" not in logs[1]
    assert "served by the host" in logs[1] and '"POST /api/2.0/mlflow/experiments/create' in logs[2]
    # Stop closes that project's port; the others keep serving, in the same process.
    host_pid = servers[0].pid
    servers[0].stop()
    assert servers[0].state is State.STOPPED
    assert port_is_free(int(urls[0].rsplit(":", 1)[1].strip("/")))
    assert rest.is_healthy(urls[1]) and experiment_names(servers, urls[2]) == own[2]
    servers[1].stop()
    servers[2].stop()
    assert psutil.pid_exists(host_pid), "the host stays warm with nothing mounted"
    again = MlflowServer(projects[1], paths, hosts=pool)
    servers.append(again)
    again.start()
    assert again.pid == host_pid, "the next click mounts into the same host"


def experiment_names_of(store: Path) -> set[str]:
    import yaml

    names = set()
    for meta in store.glob("*/meta.yaml"):
        data = yaml.safe_load(meta.read_text("utf-8"))
        if data.get("lifecycle_stage") == "active" and meta.parent.name != "0":
            names.add(data["name"])
    return names


def run_load(servers: Servers, url: str, tag: str, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "MLFLOW_TRACKING_TOKEN": servers.key(url) or ""}
    return subprocess.Popen(
        [sys.executable, str(LOAD), url, tag, str(LOAD_SECONDS), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def what_a_store_holds(uri: str, registry: str) -> dict:
    """Runs (their param and last metric per step) by experiment, and models, read directly."""
    from mlflow import MlflowClient

    client = MlflowClient(uri, registry_uri=registry)
    held: dict = {"experiments": {}, "models": set()}
    for exp in client.search_experiments(max_results=1000):
        runs = client.search_runs([exp.experiment_id], max_results=5000)
        held["experiments"][exp.name] = {
            r.info.run_id: (r.data.params.get("tag"), r.data.metrics.get("m")) for r in runs
        }
    held["models"] = {m.name for m in client.search_registered_models(max_results=1000)}
    return held


def check_isolation(
    paths: AppPaths,
    servers: Servers,
    urls: list[str],
    tags: list[str],
    stores: list[tuple[str, str]],
) -> None:
    """Load every port at once, then read each store back directly."""
    loads = [run_load(servers, u, t, "write") for u, t in zip(urls, tags, strict=True)]
    loads += [run_load(servers, u, t, "read") for u, t in zip(urls, tags, strict=True)]
    results = []
    for proc in loads:
        out, err = proc.communicate(timeout=LOAD_SECONDS + 240)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    for sent in results:
        assert not sent["errors"], sent["errors"][:5]
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    for i, (tag, (uri, registry)) in enumerate(zip(tags, stores, strict=True)):
        sent = results[i]
        assert sent["runs"] and sent["reads"] > 0 and results[len(tags) + i]["reads"] > 0
        held = what_a_store_holds(uri, registry)
        loads_held = {name for name in held["experiments"] if name.startswith("load_")}
        assert loads_held == {f"load_{tag}"}, f"{tag}'s store holds {loads_held}"
        runs = held["experiments"][f"load_{tag}"]
        assert set(runs) == set(sent["runs"]), f"{tag}: runs sent and held differ"
        assert all(param == tag for param, _ in runs.values())
        assert {m for m in held["models"] if m.startswith("model_")} == set(sent["models"])
        destination = paths.artifacts_dir(servers[i].project.slug) / "uploads"
        assert {p.name for p in destination.iterdir()} == {tag}, f"{tag}'s artifacts folder"
        assert len(list((destination / tag).iterdir())) == len(sent["artifacts"])


def test_many_clients_on_every_port_reach_their_own_project_only(
    folder_store: Path, sqlite_store: Path, rich_store: Path, paths: AppPaths, pool: HostPool,
    servers: Servers,
) -> None:  # fmt: skip
    view_before = tree_hash(rich_store.parent)
    projects = three_kinds(folder_store, sqlite_store, rich_store)
    urls = serve(paths, pool, servers, *projects)
    assert len({s.pid for s in servers}) == 1
    folder_registry = paths.registry_dir(servers[0].project.slug).absolute().as_uri()
    lite = f"sqlite:///{sqlite_store}"
    check_isolation(
        paths, servers, urls[:2], ["folder", "lite"],
        [(folder_store.as_uri(), folder_registry), (lite, lite)],
    )  # fmt: skip
    # The fast view beside them was read all along and never changed.
    view = run_load(servers, urls[2], "view", "read")
    out, _ = view.communicate(timeout=LOAD_SECONDS + 120)
    assert json.loads(out.strip().splitlines()[-1])["reads"] > 0
    assert tree_hash(rich_store.parent) == view_before


@pytest.fixture
def pg_urls() -> Iterator[list[str]]:
    gens = [postgres.scratch_database(), postgres.scratch_database()]
    urls = [next(g) for g in gens]
    yield urls
    for g in gens:
        next(g, None)


@pytest.mark.skipif(not postgres.ADMIN_URL, reason="LAUNCHER_TEST_POSTGRES is not set")
def test_two_postgresql_projects_and_a_folder_in_one_host_stay_apart(
    pg_urls: list[str], folder_store: Path, paths: AppPaths, pool: HostPool, servers: Servers
) -> None:
    projects = [
        Project("PgA", pg_urls[0]),
        Project("PgB", pg_urls[1]),
        Project("F", str(folder_store)),
    ]
    urls = serve(paths, pool, servers, *projects)
    assert len({s.pid for s in servers}) == 1
    folder_registry = paths.registry_dir(servers[2].project.slug).absolute().as_uri()
    check_isolation(
        paths, servers, urls, ["pga", "pgb", "fold"],
        [(pg_urls[0], pg_urls[0]), (pg_urls[1], pg_urls[1]),
         (folder_store.as_uri(), folder_registry)],
    )  # fmt: skip


def test_a_hanging_store_stalls_only_its_own_project(
    folder_store: Path, sqlite_store: Path, tmp_path: Path, paths: AppPaths, pool: HostPool,
    servers: Servers,
) -> None:  # fmt: skip
    """A share whose reads block (a FIFO as an experiment's meta.yaml: open() waits for a
    writer) takes every worker thread of its project; the others answer within 1 s."""
    hanging = tmp_path / "hang" / "mlruns"
    hanging.parent.mkdir()
    import shutil

    shutil.copytree(folder_store, hanging)
    urls = serve(
        paths, pool, servers, Project("Hang", str(hanging)), Project("Ok", str(sqlite_store))
    )
    stuck = hanging / "987654"
    stuck.mkdir()
    os.mkfifo(stuck / "meta.yaml")
    blocked = []
    search = "api/2.0/mlflow/experiments/search?max_results=50"
    for _ in range(60):  # more than a project's 40 worker threads

        def hang() -> None:
            with contextlib.suppress(Exception):
                http(servers, urls[0] + search)

        thread = threading.Thread(target=hang, daemon=True)
        thread.start()
        blocked.append(thread)
    time.sleep(3)
    assert all(t.is_alive() for t in blocked), "the hanging store did not hang"
    slowest = 0.0
    for _ in range(10):
        for path in ("health", "ajax-api/2.0/mlflow/runs/search"):
            t0 = time.perf_counter()
            if path == "health":
                assert rest.is_healthy(urls[1], timeout=5)
            else:
                body = json.dumps({"experiment_ids": ["0"], "max_results": 10}).encode()
                http(servers, urls[1] + path, body, "POST")
            slowest = max(slowest, time.perf_counter() - t0)
    print(f"slowest answer of the other project while one hangs: {slowest:.3f} s")
    assert slowest < 10.0  # the hang lasts for good; the goal (1 s) is bench/one_host.py's
    with open(stuck / "meta.yaml", "w") as fifo:  # the share comes back
        fifo.write("")
    (stuck / "meta.yaml").unlink()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=postgres.MARKS)])
def second_store(request: pytest.FixtureRequest, sqlite_store: Path) -> Iterator[str]:
    """The project beside a folder one: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield str(sqlite_store)
    else:
        yield from postgres.scratch_database()


def test_a_killed_host_brings_each_project_back_on_its_port(
    folder_store: Path, second_store: str, paths: AppPaths, pool: HostPool, servers: Servers
) -> None:
    urls = serve(paths, pool, servers, Project("A", str(folder_store)), Project("B", second_store))
    watchers = [threading.Thread(target=s.wait, daemon=True) for s in servers]  # as the manager
    for w in watchers:
        w.start()
    host_pid = servers[0].pid
    assert host_pid is not None
    os.kill(host_pid, signal.SIGKILL)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 180:  # a fresh import; the goal (15 s) is bench/one_host.py's
        back = [
            s.pid not in (None, host_pid) and rest.is_healthy(u)
            for s, u in zip(servers, urls, strict=True)
        ]
        if all(back):
            break
        time.sleep(0.2)
    took = time.monotonic() - t0
    print(f"both projects served again after {took:.1f} s")
    assert all(back), "\n\n".join(s.log_path.read_text("utf-8")[-3000:] for s in servers)
    assert [s.url for s in servers] == urls, "each on its own port again"
    assert len({s.pid for s in servers}) == 1, "in one new host"
    names = sorted(s.project.slug for s in servers)
    assert pool.lost == [names], "one notice for the host, naming what it served"  # type: ignore[attr-defined]
    assert all(w.is_alive() for w in watchers), "still watched"
    assert experiment_names(servers, urls[0]) == {"Default", *experiment_names_of(folder_store)}


def test_a_project_differing_in_a_setting_read_at_import_gets_a_process_of_its_own(
    folder_store: Path, paths: AppPaths, pool: HostPool, servers: Servers
) -> None:
    _plain, prefixed = serve(
        paths, pool, servers, Project("Plain", str(folder_store)),
        Project("Prefixed", str(folder_store), extra_args=["--static-prefix", "/ml"]),
    )  # fmt: skip
    assert prefixed.endswith("/ml/") and rest.is_healthy(prefixed)
    assert servers[0].pid != servers[1].pid


def test_the_host_itself_refuses_a_project_it_cannot_serve_alike(
    paths: AppPaths, pool: HostPool
) -> None:
    host = pool.ensure()
    assert host is not None and host.wait_warm(240)
    seen: list[str] = []
    from launcher.server.warm.host import HostRefused, Mount

    mount = Mount(host, "odd", seen.append)
    host.mounts["odd"] = mount
    env = {**host.command.env, "_MLFLOW_STATIC_PREFIX": "/ml"}
    host.request(
        {"op": "mount", "id": "odd", "port": 0, "env": env, "started_with": host.command.env}
    )
    assert mount._answered.wait(60)
    assert mount.answer is not None and mount.answer["kind"] == "host-mismatch"
    assert "_MLFLOW_STATIC_PREFIX" in str(mount.answer["message"])
    assert host.alive()
    del HostRefused


def test_killed_launcher_leaves_no_host(paths: AppPaths, tmp_path: Path) -> None:
    script = tmp_path / "holder.py"
    script.write_text(
        textwrap.dedent(
            """
            import time
            from launcher.model.paths import app_paths
            from launcher.server.warm.host_pool import HostPool
            pool = HostPool(app_paths())
            host = pool.ensure()
            host.wait_warm(240)
            print(host.pid, flush=True)
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
        assert len(pids) == 1 and not gone(pids, timeout=1)
        holder.send_signal(signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
        holder.wait(10)
        assert gone(pids, timeout=15), "a host outlived its SIGKILLed launcher"
    finally:
        holder.kill()
