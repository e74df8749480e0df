"""Who may see and change which workspace of a team server: MLflow's basic-auth app, asked over
its REST API with the admin's login (HTTPS, the pinned certificate, as every launcher call).

With workspaces on, MLflow 3.17's auth app gives a user nothing in a workspace until a role of
that workspace is assigned to them (``default_permission`` applies inside a workspace the user
has a role in, never across workspaces); the admin sees and changes everything. Workspaces made
over REST get the roles ``admin`` (MANAGE) and ``user`` (USE) seeded; workspaces ``gather``
wrote straight into the database have none, so :func:`grant` creates the role it needs.

Levels, MLflow's: READ (see every experiment, run and model of the workspace), USE (READ, and
create experiments and models, which their creator then manages; others' stay read-only),
MANAGE (change and delete anything in the workspace, grant it to others).
"""

from __future__ import annotations

import base64
import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from launcher.server import rest

LEVELS = ("READ", "USE", "MANAGE")
_ROLES = "/api/3.0/mlflow/roles"


class AccessError(Exception):
    """The server refused a change; the message is its own, for the user."""


def _call(base_url: str, login: tuple[str, str], path: str, body: dict | None = None) -> Any:
    url = base_url.rstrip("/") + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with rest._open(request, 30) as response:
            return json.loads(response.read().decode("utf-8") or "{}")
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")
        with contextlib.suppress(ValueError):
            text = json.loads(text).get("message", text)
        raise AccessError(f"{exc.code}: {text}") from exc


def create_user(base_url: str, admin: tuple[str, str], username: str, password: str) -> None:
    _call(base_url, admin, "/api/2.0/mlflow/users/create",
          {"username": username, "password": password})  # fmt: skip


def _role(base_url: str, admin: tuple[str, str], workspace: str, level: str) -> int:
    """The id of the workspace's role granting ``level`` on all of it (made when missing)."""
    name = f"launcher-{level.lower()}"
    query = urllib.parse.urlencode({"workspace": workspace})
    for role in _call(base_url, admin, f"{_ROLES}/list?{query}").get("roles", []):
        if role.get("name") == name and role.get("workspace") == workspace:
            return int(role["id"])
    made = _call(base_url, admin, f"{_ROLES}/create", {
        "name": name, "workspace": workspace,
        "description": f"{level} on every resource of {workspace} (mlflow-launcher)",
    })  # fmt: skip
    role_id = int(made["role"]["id"])
    _call(base_url, admin, f"{_ROLES}/permissions/add", {
        "role_id": role_id, "resource_type": "workspace", "resource_pattern": "*",
        "permission": level,
    })  # fmt: skip
    return role_id


def grant(
    base_url: str, admin: tuple[str, str], username: str, workspace: str, level: str = "USE"
) -> None:
    """Give ``username`` ``level`` on every resource of ``workspace``."""
    if level not in LEVELS:
        raise AccessError(f"the level is one of {', '.join(LEVELS)}, not {level!r}")
    role_id = _role(base_url, admin, workspace, level)
    _call(base_url, admin, f"{_ROLES}/assign", {"username": username, "role_id": role_id})
