"""Many projects in one server process: each request reaches its own project's stores.

MLflow's server keeps one tracking store, one registry store and one artifact repository per
process, in module globals of ``mlflow.server.handlers``, and reads a few settings from
``os.environ`` on every request. A host process (``host.py``) serves several projects, so each of
those is routed the way MLflow itself routes a request's workspace: through a ContextVar,
:data:`CURRENT`, that names the project the request came in for. Each mounted project runs its
own event loop in its own thread with :data:`CURRENT` set, and its ASGI front sets it again per
request; anyio copies the context into the worker threads where Flask handlers run, so every
read below sees the project of its request.

What is per project, and how it is routed:

- ``handlers._tracking_store``, ``handlers._model_registry_store``, ``handlers._artifact_repo``
  (the ``mlflow-artifacts:/`` destination) and ``handlers._job_store``: set once to a
  :class:`Routed` proxy, which forwards every attribute to the current project's own object
  (and answers ``isinstance`` as that object). ``_get_tracking_store()`` and its siblings return
  the global when it is set, so they never build a process-wide store.
- The environment variables in :data:`ROUTED_VARS` (``os.environ`` is given a subclass whose
  reads of those names answer from the current project's settings): the artifact destination
  and serving switch read per request, the store URIs, the file-store switch read when a
  store opens, the boot id, and ``MLFLOW_TRACKING_URI``/``MLFLOW_REGISTRY_URI``, which
  ``mlflow.get_tracking_uri()`` and ``get_registry_uri()`` fall back to (the host never calls
  ``set_tracking_uri``, which would pin one project's store for the whole process).
- Not routed, so equal for every project of a host (the launcher starts another host for a
  project that differs in them): every other setting MLflow reads at import, such as the static
  prefix, allowed hosts, CORS and the security middleware's options.
- Not routed at all: MLflow's workspaces (``workspace_helpers._workspace_store`` is one per
  process), so a project with workspaces on is never mounted in a host (warm/host.py).
- Shared, and safe to share: the store registries (they cache stores per URI) and MLflow's app.

Outside any project (a thread MLflow starts without copying the context), the proxies refuse
and the routed variables read as unset: a request can fail, never reach another project.

Standard library only, like every module of this package.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Mapping
from typing import Any

from . import protocol

ROUTED_VARS = frozenset(
    {
        "_MLFLOW_SERVER_FILE_STORE",
        "_MLFLOW_SERVER_REGISTRY_STORE",
        "_MLFLOW_SERVER_ARTIFACT_ROOT",
        "_MLFLOW_SERVER_ARTIFACT_DESTINATION",
        "_MLFLOW_SERVER_SERVE_ARTIFACTS",
        "_MLFLOW_SERVER_BOOT_ID",
        "MLFLOW_ALLOW_FILE_STORE",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_REGISTRY_URI",
        "PGPASSWORD",
    }
)
"""Variables read while serving, one value per project (see the module docstring)."""

LAUNCHER_VARS = frozenset({protocol.ACCESS_KEY_VAR, protocol.PROJECT_VAR, protocol.READ_ONLY_VAR})
"""The launcher's own per-project settings, taken by the project's front when it is mounted
(access_gate.py, readonly_guard.py); never in the process environment."""
LATE_VARS = ROUTED_VARS | LAUNCHER_VARS
"""What may differ between two projects of one host. Any other variable MLflow may read at
import, so a project differing in one is served by another host (checked in MLflow 3.17)."""

ROUTED_GLOBALS = ("_tracking_store", "_model_registry_store", "_artifact_repo", "_job_store")
"""``mlflow.server.handlers`` globals that hold one object per project."""


def comparable(env: Mapping[str, str]) -> dict[str, str]:
    """The part of an environment that must be equal for two projects to share a host."""
    return {k: v for k, v in env.items() if k not in LATE_VARS}


def differing(started_with: Mapping[str, str], env: Mapping[str, str]) -> list[str]:
    """The import-time variables in which a project's ``env`` differs from the environment the
    launcher started the host with: a project differing in any must not be mounted there.

    Both are the launcher's view: what the host's own start changed in its environment (a
    frozen bundle's bootloader puts its folders on PATH) is in neither, so it cannot count."""
    a, b = comparable(started_with), comparable(env)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


class Project:
    """What one mounted project's requests read: its settings and its stores, made lazily."""

    def __init__(self, name: str, env: Mapping[str, str], make: Callable[[Project, str], Any]):
        self.name = name
        self.env = {k: v for k, v in env.items() if k in ROUTED_VARS}
        self._make = make
        self._objects: dict[str, Any] = {}

    def target(self, what: str) -> Any:
        """This project's object for a routed global (made on first use, then kept)."""
        found = self._objects.get(what)
        if found is None:
            found = self._objects[what] = self._make(self, what)
        return found

    def made(self) -> list[Any]:
        return list(self._objects.values())


CURRENT: contextvars.ContextVar[Project | None] = contextvars.ContextVar(
    "mlflow_launcher_project", default=None
)


class NoProject(RuntimeError):
    """Something read a project's store outside any project's request."""


class Routed:
    """Stands for a per-project object in a module global; forwards to the current project's."""

    __slots__ = ("_what",)

    def __init__(self, what: str) -> None:
        object.__setattr__(self, "_what", what)

    def _target(self) -> Any:
        project = CURRENT.get()
        if project is None:
            raise NoProject(f"{self._what} read outside a project's request")
        return project.target(self._what)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target(), name, value)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(proxy, SqlAlchemyStore) answers as the target
        return type(self._target())

    def __repr__(self) -> str:
        project = CURRENT.get()
        return f"<routed {self._what} of {project.name if project else 'no project'}>"


class _RoutedEnviron(os._Environ):
    """``os.environ`` whose :data:`ROUTED_VARS` answer from the current project."""

    def __getitem__(self, key: str) -> str:
        project = CURRENT.get()
        if project is not None and key in ROUTED_VARS:
            return project.env[key]  # KeyError when this project has none: as unset
        if key in ROUTED_VARS:
            raise KeyError(key)  # outside a project: never another project's value
        return str(super().__getitem__(key))


def install(handlers: Any) -> None:
    """Route ``handlers``' per-project globals and the environment (once per process)."""
    for name in ROUTED_GLOBALS:
        setattr(handlers, name, Routed(name))
    for key in ROUTED_VARS:
        os.environ.pop(key, None)  # what a spare was started with must not leak into a project
    if not isinstance(os.environ, _RoutedEnviron):
        os.environ.__class__ = _RoutedEnviron
