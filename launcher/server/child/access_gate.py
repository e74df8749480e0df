"""The access gate in front of a lean server: only whoever holds the server's key gets in.

A server on 127.0.0.1 is open to every user of the PC (terminal servers, shared lab machines)
and to every local process. Like JupyterLab's per-server token, each lean server gets a random
key from the launcher (in its environment, never in argv) and this ASGI middleware lets a request
through only when it carries that key:

- ``GET /any/route?launcher_key=KEY`` (the link the launcher opens once) answers with a cookie
  named for the server's port (browsers share cookies across the ports of one host) and a
  redirect to the same route without the key. The UI's ``#/...`` route is not sent to the
  server, and browsers keep it across a redirect whose ``Location`` has none, so the page lands
  where the launcher pointed it.
- every other request needs that cookie, or ``Authorization: Bearer KEY`` (what the mlflow client
  sends when ``MLFLOW_TRACKING_TOKEN`` is set);
- ``/health`` stays open (the launcher's readiness check; it says only ``OK``);
- anything else gets 403 and a short plain page saying how to open the project.

The key is removed from the request's query string before uvicorn logs the request line, so it
never reaches a log file.

Standard library only, like every module of this package (it runs in the project's Python).
"""

from __future__ import annotations

import hmac
import os
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import protocol

COOKIE_PREFIX = "mlflow-launcher-"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def cookie_name(port: int) -> str:
    """One cookie per server: browsers share cookies across the ports of one host."""
    return f"{COOKIE_PREFIX}{port}"


def refusal_text(project: str) -> str:
    name = f' "{project}"' if project else ""
    return (
        "403 Forbidden: this MLflow server belongs to MLflow Launcher and needs its access key.\n"
        "\n"
        f"Open the project{name} from the MLflow Launcher icon in the system tray, or run\n"
        f"    mlflow-launcher url{name}\n"
        "and open the link it prints. Scripts: set MLFLOW_TRACKING_TOKEN to the key it prints.\n"
    )


class AccessGate:
    """ASGI middleware: ``app`` behind ``key`` (see the module docstring)."""

    def __init__(self, app: App, key: str, *, port: int, prefix: str = "", project: str = ""):
        if len(key) < 16:
            raise ValueError("an access key must be at least 16 characters")
        self.app = app
        self._key = key.encode("utf-8")
        self._cookie = cookie_name(port)
        self._health = {prefix.rstrip("/") + "/health", "/health"}
        self._refusal = refusal_text(project).encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        given = _take_key(scope)
        if kind == "http" and scope.get("path") in self._health and given is None:
            await self.app(scope, receive, send)
            return
        if (
            given is not None
            and kind == "http"
            and scope.get("method") in ("GET", "HEAD")
            and self._matches(given)
        ):
            await self._redirect_with_cookie(scope, send)
            return
        if self._authorized(scope):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self._refuse(send)

    def _matches(self, given: bytes) -> bool:
        return hmac.compare_digest(given, self._key)

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer" and self._matches(token.strip()):
                    return True
            elif name == b"cookie":
                for part in value.split(b";"):
                    cname, eq, cvalue = part.strip().partition(b"=")
                    if eq and cname.decode("latin-1") == self._cookie and self._matches(cvalue):
                        return True
        return False

    async def _redirect_with_cookie(self, scope: Scope, send: Send) -> None:
        raw = scope.get("raw_path") or urllib.parse.quote(scope.get("path", "/")).encode()
        location = bytes(raw).split(b"?", 1)[0] or b"/"
        if scope.get("query_string"):
            location += b"?" + bytes(scope["query_string"])
        cookie = f"{self._cookie}={self._key.decode()}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 302,
                "headers": [
                    (b"location", location),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"content-length", str(len(self._refusal)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self._refusal})


def _take_key(scope: Scope) -> bytes | None:
    """The key given in the query string, removed from it in place (uvicorn logs the scope's)."""
    query = bytes(scope.get("query_string") or b"")
    if protocol.ACCESS_KEY_PARAM.encode() not in query:
        return None
    given: bytes | None = None
    kept = []
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if urllib.parse.unquote_to_bytes(name) == protocol.ACCESS_KEY_PARAM.encode():
            given = urllib.parse.unquote_to_bytes(value)
        elif pair:
            kept.append(pair)
    scope["query_string"] = b"&".join(kept)
    return given


def wrap_from_environ(app: App, port: int) -> App:
    """``app`` behind the key the launcher put in the environment, or ``app`` itself if none.

    The variables are removed from the environment, so nothing MLflow starts inherits the key.
    """
    key = os.environ.pop(protocol.ACCESS_KEY_VAR, "")
    project = os.environ.pop(protocol.PROJECT_VAR, "")
    if not key:
        return app
    prefix = os.environ.get("_MLFLOW_STATIC_PREFIX", "")
    return AccessGate(app, key, port=port, prefix=prefix, project=project)
