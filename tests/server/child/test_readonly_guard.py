"""The fast view's read-only guard, against MLflow's own list of endpoints: every endpoint that
could change data is refused, the searches and reads pass, and the list does not go stale."""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

import pytest

from launcher.server.child.readonly_guard import READ_ONLY_POSTS, ReadOnly, allowed


@pytest.fixture(scope="module")
def endpoints() -> list[tuple[str, str]]:
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.server import handlers

    return [(m, path) for path, _fn, methods in handlers.get_endpoints() for m in methods]


WRITERS = [
    ("POST", "/ajax-api/2.0/mlflow/experiments/create"),
    ("POST", "/api/2.0/mlflow/runs/log-batch"),
    ("POST", "/api/2.0/mlflow/runs/update"),
    ("POST", "/api/2.0/mlflow/registered-models/rename"),
    ("DELETE", "/api/2.0/mlflow/registered-models/delete"),
    ("PATCH", "/api/2.0/mlflow/model-versions/update"),
    ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/x.txt"),
    ("POST", "/ajax-api/2.0/mlflow/upload-artifact"),
    ("POST", "/v1/traces"),
    ("POST", "/static-prefix/api/2.0/mlflow/runs/create"),
]


@pytest.mark.parametrize(("method", "path"), WRITERS)
def test_writers_are_refused(method: str, path: str) -> None:
    assert not allowed(method, path)


def test_every_mlflow_endpoint_is_classified(endpoints: list[tuple[str, str]]) -> None:
    keys = set()
    for method, path in endpoints:
        match = re.search(r"(?:ajax-)?api/\d+\.\d+/?(.*)$", path)
        key = match.group(1) if match else path
        keys.add(key)
        if method in ("GET", "HEAD"):
            assert allowed(method, path), path
        elif path.endswith("/graphql"):
            assert allowed(method, path)
        else:
            assert allowed(method, path) == (key in READ_ONLY_POSTS), (method, path)
    stale = READ_ONLY_POSTS - keys
    assert not stale, f"not MLflow endpoints (any more): {stale}"


def test_graphql_mutations_are_only_searches() -> None:
    from mlflow.server.graphql.graphql_schema_extensions import schema

    mutations = set(schema.graphql_schema.mutation_type.fields)
    assert mutations <= {"mlflowSearchRuns", "mlflowSearchDatasets", "testMutation"}


def test_refusal_is_an_mlflow_error() -> None:
    called: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        called.append(scope["path"])

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    guard = ReadOnly(app, "fast view: open the live store")
    scope = {"type": "http", "method": "POST", "path": "/api/2.0/mlflow/runs/create"}
    asyncio.run(guard(scope, receive, send))
    assert sent[0]["status"] == 403
    body = json.loads(sent[1]["body"])
    assert body == {"error_code": "PERMISSION_DENIED", "message": "fast view: open the live store"}
    search = {"type": "http", "method": "POST", "path": "/ajax-api/2.0/mlflow/runs/search"}
    asyncio.run(guard(search, receive, send))
    assert called == ["/ajax-api/2.0/mlflow/runs/search"]
