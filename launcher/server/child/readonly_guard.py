"""A read-only front for MLflow's app: the fast view of a share serves a local copy, and a change
made there would be silently lost at the next refresh, so every request that could change data
is refused with an MLflow-style JSON error that says why and how to open the live store.

Standard library only, like every module of this package (it runs in the project's Python). Set
``protocol.READ_ONLY_VAR`` (to the refusal's message) to serve a project read-only. Deny by
default: GET and HEAD (reads) pass, and of the other methods only the POST endpoints that MLflow
uses for searches and batch reads (listed in :data:`READ_ONLY_POSTS`, checked against MLflow's
endpoint list by the tests). GraphQL passes: its "mutations" are the two searches the UI sends
through it (the tests check that too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

READ_ONLY_POSTS = frozenset(
    {
        "mlflow/experiments/search",
        "mlflow/experiments/search-datasets",
        "mlflow/runs/search",
        "mlflow/logged-models/search",
        "mlflow/registered-models/get-latest-versions",
        "mlflow/datasets/search",
        "mlflow/issues/search",
        "mlflow/prompt-optimization/jobs/search",
        "mlflow/traces/search",
        "mlflow/traces/batchGetInfos",
        "mlflow/traces/metrics",
        "mlflow/traces/calculate-filter-correlation",
        "mlflow/artifacts/presigned-download-url",
    }
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_API = re.compile(r"(?:^|/)(?:ajax-)?api/\d+\.\d+/?(.*)$")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def allowed(method: str, path: str) -> bool:
    """May a request with this method and path reach a read-only fast view?"""
    method = method.upper()
    if method in READ_METHODS:
        return True
    if method != "POST":
        return False
    if path.rstrip("/").endswith("/graphql"):
        return True
    match = _API.search(path)
    return match is not None and match.group(1).strip("/") in READ_ONLY_POSTS


class ReadOnly:
    """ASGI middleware: refuses writes with 403 and ``PERMISSION_DENIED``."""

    def __init__(self, app: Callable[..., Awaitable[None]], message: str) -> None:
        self.app = app
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or allowed(scope.get("method", "GET"), scope["path"]):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error_code": "PERMISSION_DENIED", "message": self.message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
