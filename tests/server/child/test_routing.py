"""The routing that lets one process serve many projects, in this process (pure, no server):
each project's objects and settings, and nothing outside a project."""

from __future__ import annotations

import contextvars
import os
import threading
import types
from collections.abc import Iterator

import pytest

from launcher.server.child import routing


class Store:
    def __init__(self, name: str) -> None:
        self.name = name

    def search(self) -> str:
        return f"searched {self.name}"


def make(project: routing.Project, what: str) -> Store:
    return Store(f"{project.name}:{what}:{project.env.get('_MLFLOW_SERVER_FILE_STORE')}")


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.SimpleNamespace]:
    module = types.SimpleNamespace(**{name: None for name in routing.ROUTED_GLOBALS})
    saved = os.environ.__class__
    yield module
    os.environ.__class__ = saved


def test_each_global_answers_as_the_project_of_the_request(
    handlers: types.SimpleNamespace,
) -> None:
    routing.install(handlers)
    a = routing.Project("A", {"_MLFLOW_SERVER_FILE_STORE": "file:///a", "PATH": "x"}, make)
    b = routing.Project("B", {"_MLFLOW_SERVER_FILE_STORE": "sqlite:///b.db"}, make)
    seen: dict[str, tuple[str, str | None, bool]] = {}

    def request(project: routing.Project) -> None:
        routing.CURRENT.set(project)

        def worker() -> None:  # as anyio's worker thread: the context copied in
            store = handlers._tracking_store
            seen[project.name] = (
                store.search(),
                os.environ.get("_MLFLOW_SERVER_FILE_STORE"),
                isinstance(store, Store),
            )

        ctx = contextvars.copy_context()
        thread = threading.Thread(target=ctx.run, args=(worker,))
        thread.start()
        thread.join()

    requests = [
        threading.Thread(target=contextvars.copy_context().run, args=(request, project))
        for project in (a, b)
    ]
    for thread in requests:
        thread.start()
    for thread in requests:
        thread.join()
    assert seen["A"] == ("searched A:_tracking_store:file:///a", "file:///a", True)
    assert seen["B"] == ("searched B:_tracking_store:sqlite:///b.db", "sqlite:///b.db", True)
    assert a.target("_tracking_store") is a.target("_tracking_store"), "made once, then kept"
    assert "PATH" not in a.env, "only the routed variables are the project's own"


def test_outside_a_project_nothing_is_served(handlers: types.SimpleNamespace) -> None:
    os.environ["_MLFLOW_SERVER_FILE_STORE"] = "file:///left-over"
    routing.install(handlers)
    assert "_MLFLOW_SERVER_FILE_STORE" not in os.environ, "a start's value never leaks"
    with pytest.raises(routing.NoProject):
        handlers._model_registry_store.search()
    assert os.environ.get("HOME") == os.environ["HOME"], "other variables read as always"


def test_a_project_differing_in_a_setting_read_at_import_is_refused() -> None:
    started = {"PATH": "/usr/bin", "MLFLOW_DISABLE_TELEMETRY": "true"}
    env = {**started, "_MLFLOW_STATIC_PREFIX": "/ml", "PATH": "/opt/bin"}
    assert routing.differing(started, env) == ["PATH", "_MLFLOW_STATIC_PREFIX"]
    late = {**started, "PGPASSWORD": "s3", "_MLFLOW_SERVER_FILE_STORE": "file:///x"}
    assert routing.differing(started, late) == [], "what is routed may differ"
