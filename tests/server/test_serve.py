"""Real MLflow servers: serve folder and SQLite stores, stop them, leave nothing behind."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import ports as launcher_ports
from launcher.server import rest
from launcher.server.checks.failures import Cause, ServerFailed
from launcher.server.process import MlflowServer, State
from tests.conftest import EXPERIMENTS
from tests.server.helpers import gone, port_is_free, tree, tree_hash
from tests.started import link

pytestmark = pytest.mark.process


def serve(project: Project, paths: AppPaths, servers: list, **kwargs: object) -> MlflowServer:
    server = MlflowServer(project, paths, **kwargs)  # type: ignore[arg-type]
    servers.append(server)
    server.start()
    return server


def assert_stops_clean(server: MlflowServer) -> None:
    assert server.pid is not None and server.port is not None
    pids, port = tree(server.pid), server.port
    server.stop()
    assert server.state is State.STOPPED
    assert gone(pids), "a server process outlived stop()"
    assert port_is_free(port)


@pytest.mark.parametrize("kind", ["folder", "sqlite"])
def test_store_is_served_read_back_and_left_untouched(
    kind: str, request: pytest.FixtureRequest, paths: AppPaths, servers: list
) -> None:
    store: Path = request.getfixturevalue(f"{kind}_store")
    before = tree_hash(store.parent)
    server = serve(Project("P", str(store)), paths, servers)
    assert server.state is State.RUNNING and server.lean
    assert server.url == f"http://127.0.0.1:{server.port}/"
    assert rest.get_text(link(server, "version")) is not None
    names = {e["name"] for e in rest.search_experiments(link(server))}
    assert set(EXPERIMENTS) <= names
    assert "<html" in (rest.get_text(link(server)) or "").lower()
    assert_stops_clean(server)
    assert tree_hash(store.parent) == before, "serving wrote into or beside the store"
    log = server.log_path.read_text(encoding="utf-8")
    assert "=== ready at" in log and "=== stopped" in log


def test_embedded_default_project_works_on_first_run(paths: AppPaths, servers: list) -> None:
    from launcher.model.config import ConfigStore

    local = ConfigStore(paths).load().config.get("Local")
    server = serve(local, paths, servers)
    assert rest.search_experiments(link(server)) != []
    assert Path(local.store).is_file()
    assert_stops_clean(server)


def test_two_projects_at_once(
    folder_store: Path, sqlite_store: Path, paths: AppPaths, servers: list
) -> None:
    a = serve(Project("A", str(folder_store)), paths, servers)
    b = serve(Project("B", str(sqlite_store)), paths, servers)
    assert a.port != b.port
    assert rest.is_healthy(a.url or "") and rest.is_healthy(b.url or "")
    assert a.log_path != b.log_path
    assert_stops_clean(a)
    assert rest.is_healthy(b.url or "")
    assert_stops_clean(b)


def test_fixed_port_taken_is_named_and_leaves_nothing(folder_store: Path, paths: AppPaths) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        server = MlflowServer(Project("P", str(folder_store), port=port), paths)
        with pytest.raises(ServerFailed) as info:
            server.start()
    assert info.value.failure.cause is Cause.PORT_TAKEN
    assert server.state is State.FAILED and server.pid is None


def test_lost_port_race_is_retried_on_another_port(
    folder_store: Path, paths: AppPaths, servers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    taken = blocker.getsockname()[1]
    real = launcher_ports.free_port
    ports = iter([taken])
    monkeypatch.setattr(
        launcher_ports, "free_port", lambda host="127.0.0.1": next(ports, None) or real(host)
    )
    try:
        server = serve(Project("P", str(folder_store)), paths, servers)
    finally:
        blocker.close()
    assert server.port != taken
    assert f"port {taken} was taken" in server.log_path.read_text(encoding="utf-8")
    assert_stops_clean(server)


def test_missing_store_is_named_and_not_created(tmp_path: Path, paths: AppPaths) -> None:
    missing = tmp_path / "nowhere" / "mlruns"
    server = MlflowServer(Project("P", str(missing)), paths)
    with pytest.raises(ServerFailed) as info:
        server.start()
    assert info.value.failure.cause is Cause.STORE_MISSING
    assert not missing.parent.exists()


def test_missing_mlflow_in_chosen_environment(
    folder_store: Path, tmp_path: Path, paths: AppPaths
) -> None:
    import venv

    venv.create(tmp_path / "bare", with_pip=False)
    server = MlflowServer(Project("P", str(folder_store), python=str(tmp_path / "bare")), paths)
    with pytest.raises(ServerFailed) as info:
        server.start()
    assert info.value.failure.cause is Cause.MLFLOW_MISSING


def _old_schema_copy(sqlite_store: Path) -> Path:
    script = Path(__file__).parents[1] / "stores.py"
    subprocess.run(
        [sys.executable, str(script), "downgrade", str(sqlite_store), "3"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return sqlite_store


def test_old_schema_is_refused_and_left_byte_identical(sqlite_store: Path, paths: AppPaths) -> None:
    old = _old_schema_copy(sqlite_store)
    before = tree_hash(old.parent)
    server = MlflowServer(Project("Old", str(old)), paths)
    with pytest.raises(ServerFailed) as info:
        server.start()
    failure = info.value.failure
    assert failure.cause is Cause.SCHEMA_OUTDATED
    assert "older MLflow" in failure.message and "--upgrade-schema" in failure.message
    assert tree_hash(old.parent) == before
    assert server.pid is None


def test_upgrade_on_request_copies_sqlite_aside_first(
    sqlite_store: Path, paths: AppPaths, servers: list
) -> None:
    old = _old_schema_copy(sqlite_store)
    original = old.read_bytes()
    server = serve(Project("Old", str(old)), paths, servers, upgrade_schema=True)
    backups = list(old.parent.glob("mlflow.db.*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert {e["name"] for e in rest.search_experiments(link(server))} >= set(EXPERIMENTS)
    assert_stops_clean(server)


def test_fallback_server_for_options_the_lean_server_lacks(
    folder_store: Path, paths: AppPaths, servers: list
) -> None:
    project = Project(
        "P", str(folder_store), extra_args=["--uvicorn-opts", "--timeout-keep-alive 7"]
    )
    server = serve(project, paths, servers)
    assert server.lean is False
    assert len(tree(server.pid or 0)) >= 3  # child/main.py -> mlflow server -> uvicorn
    assert set(EXPERIMENTS) <= {e["name"] for e in rest.search_experiments(link(server))}
    assert_stops_clean(server)


def test_concurrent_starts_share_one_server(
    folder_store: Path, paths: AppPaths, servers: list
) -> None:
    import threading

    server = MlflowServer(Project("P", str(folder_store)), paths)
    servers.append(server)
    urls: list[str] = []
    threads = [threading.Thread(target=lambda: urls.append(server.start())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(urls) == 3 and len(set(urls)) == 1
    log = server.log_path.read_text(encoding="utf-8")
    assert log.count("=== starting") == 1
    assert_stops_clean(server)
