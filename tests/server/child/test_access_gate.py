"""The access gate and key plumbing, without a server: ASGI calls and files."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import access_key
from launcher.server.child.access_gate import AccessGate, cookie_name, wrap_from_environ

KEY = "k" * 43
PORT = 5123


async def _app(scope: Any, receive: Any, send: Any) -> None:
    body = f"app {scope['path']}?{scope['query_string'].decode()}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def call(
    path: str,
    query: str = "",
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
) -> tuple[int, dict[bytes, bytes], bytes, dict[str, Any]]:
    gate = AccessGate(_app, KEY, port=PORT, project="P")
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers or [],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(gate(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"], scope


def test_requests_without_the_key_are_refused_with_how_to_open_the_project() -> None:
    for path in ("/", "/ajax-api/2.0/mlflow/experiments/search", "/version", "/static-files/x.js"):
        status, headers, body, _ = call(path)
        assert status == 403, path
        assert b"mlflow-launcher url" in body and b'"P"' in body
        assert headers[b"content-type"].startswith(b"text/plain")
    for bad in (
        [(b"authorization", b"Bearer " + b"x" * 43)],
        [(b"cookie", cookie_name(PORT).encode() + b"=" + b"x" * 43)],
        [(b"cookie", cookie_name(PORT + 1).encode() + b"=" + KEY.encode())],  # another server's
        [(b"authorization", b"Basic " + KEY.encode())],
    ):
        assert call("/", headers=bad)[0] == 403
    assert call("/", query="launcher_key=wrong")[0] == 403
    assert call("/health")[0] == 200


def test_the_key_or_its_cookie_lets_requests_in() -> None:
    assert call("/x", headers=[(b"authorization", b"Bearer " + KEY.encode())])[0] == 200
    assert call("/x", headers=[(b"authorization", b"bearer " + KEY.encode())])[0] == 200
    cookie = b"other=1; " + cookie_name(PORT).encode() + b"=" + KEY.encode()
    assert call("/x", headers=[(b"cookie", cookie)])[0] == 200


def test_the_key_in_the_link_sets_a_strict_cookie_and_redirects_without_it() -> None:
    status, headers, _, scope = call("/sub/page", query=f"a=1&launcher_key={KEY}&b=2")
    assert status == 302
    assert headers[b"location"] == b"/sub/page?a=1&b=2"
    cookie = headers[b"set-cookie"].decode()
    assert cookie.startswith(f"{cookie_name(PORT)}={KEY};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert KEY.encode() not in scope["query_string"], "uvicorn would log the key"
    status, headers, _, _ = call("/", query=f"launcher_key={KEY}")
    assert headers[b"location"] == b"/"
    # Not on a state-changing request: a link must not be able to post with the key.
    assert call("/", query=f"launcher_key={KEY}", method="POST")[0] == 403


def test_wrap_from_environ_takes_the_key_out_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("_MLFLOW_LAUNCHER_ACCESS_KEY", KEY)
    wrapped = wrap_from_environ(_app, PORT)
    assert isinstance(wrapped, AccessGate)
    assert "_MLFLOW_LAUNCHER_ACCESS_KEY" not in os.environ
    assert wrap_from_environ(_app, PORT) is _app  # no key: nothing to guard


def test_links_carry_the_key_before_the_route() -> None:
    url = "http://127.0.0.1:5123/#/experiments/1"
    assert (
        access_key.with_key(url, KEY) == f"http://127.0.0.1:5123/?launcher_key={KEY}#/experiments/1"
    )
    assert access_key.with_key("http://h:1/?a=b", KEY) == f"http://h:1/?a=b&launcher_key={KEY}"
    assert access_key.with_key(url, None) == url
    keyed = access_key.with_key(url, KEY)
    assert access_key.with_key(keyed, KEY) == keyed, "a link carries its key once"
    assert access_key.with_key(keyed, "other").count("launcher_key=") == 1
    assert access_key.with_key(keyed, None) == url, "no key: the link carries none"
    assert access_key.split_key(keyed) == (url, KEY)


def test_keys_are_fresh_per_start_and_stable_in_a_private_file_for_a_fixed_port(
    paths: AppPaths,
) -> None:
    free = Project("A", "/tmp/s")
    keys = {access_key.key_for_start(free, paths, 5000) for _ in range(3)}
    assert len(keys) == 3 and all(len(k) >= 43 for k in keys)  # 256 bits, url-safe
    fixed = Project("B", "/tmp/s", port=5055)
    first = access_key.key_for_start(fixed, paths, 5055)
    assert access_key.key_for_start(fixed, paths, 5055) == first
    files = list((paths.data_dir / "keys").iterdir())
    assert len(files) == 1
    if os.name != "nt":
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700


def test_running_servers_are_found_by_their_file_and_forgotten(paths: AppPaths) -> None:
    project = Project("A", "/tmp/s")
    access_key.record(paths, project, "http://127.0.0.1:5/", os.getpid(), KEY)
    found = access_key.running(paths, project)
    assert found is not None and found.key == KEY and KEY in found.keyed_url
    path = next(Path(paths.data_dir, "running").iterdir())
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    access_key.drop(paths, project, pid=os.getpid() + 1)  # not its server: kept
    assert access_key.running(paths, project) is not None
    access_key.drop(paths, project, pid=os.getpid())
    assert access_key.running(paths, project) is None


def test_protection_in_plain_words() -> None:
    project = Project("A", "/tmp/s")
    assert access_key.protection(project, remote=False, lean=True)[0]
    remote = access_key.protection(project, remote=True, lean=None)
    assert not remote[0] and "remote" in remote[1]
    fallback = access_key.protection(project, remote=False, lean=False)
    assert not fallback[0] and "mlflow server" in fallback[1]
    off = access_key.protection(Project("A", "/tmp/s", access_key=False), remote=False, lean=True)
    assert not off[0] and "turned off" in off[1] and "--access-key" in off[1]
