"""MLflow's server imported ahead of any project: what makes a warm host's mount instant.

Importing ``mlflow.server.fastapi_app`` is most of a server's start (about 6 s and 245 MB here)
and depends on no store, so a host (``host.py``) does it before any click, in a thread of low
priority so a user working on the machine does not feel it, together with what opening a store
and the first request would otherwise import lazily.

Standard library only at module level, like every module of this package.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

_BELOW_NORMAL_NICE = 10

SERVING_MODULES = (
    # Opening a store (initialize_backend_stores): each store kind's classes, and the tracing
    # processors and metrics SDK every store loads.
    "mlflow.store.tracking.file_store",
    "mlflow.store.model_registry.file_store",
    "mlflow.store.tracking.sqlalchemy_workspace_store",
    "mlflow.store.model_registry.sqlalchemy_workspace_store",
    "sqlalchemy.dialects.sqlite",
    "alembic.command",
    "alembic.config",
    "mlflow.tracing.processor.otel",
    "mlflow.tracing.processor.base_mlflow",
    "mlflow.tracing.export.utils",
    "mlflow.tracing.utils.environment",
    "opentelemetry.sdk.metrics",
    # Serving (uvicorn.Server.run and the first request): the event loop, the HTTP protocol,
    # the lifespan, anyio's asyncio backend (its first thread hop took 0.14 s) and the sandbox
    # MLflow's lifespan loads.
    "uvicorn.loops.auto",
    "uvicorn.loops.asyncio",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.websockets.auto",
    "uvicorn.lifespan.on",
    "anyio._backends._asyncio",
    "mlflow.server.sandbox",
    "fastapi.telemetry._runtime",
)
"""Loaded by the first request or by opening a store, but independent of any store, so a spare
imports them ahead too: when a project is mounted, the store and the socket are all that is left
(with :func:`_match_every_route`, settings to /health OK took 0.04 s on a folder store here,
0.30 s before). Read from MLflow 3.17 with uvicorn and anyio of its time; a name a later
version lacks is skipped (tests/server/child/test_warm_up.py says when)."""


def import_server() -> None:
    import importlib

    import uvicorn  # noqa: F401
    from mlflow.server.fastapi_app import app
    from mlflow.server.handlers import initialize_backend_stores  # noqa: F401

    for name in SERVING_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _match_every_route(app)


def _match_every_route(app: Any) -> None:
    """Match a path no route has against every route of MLflow's app, as a first request would.

    FastAPI builds each route's request models (pydantic schemas, about 80 routes) the first
    time a request is matched: 0.17 s of a first ``/health`` here, done
    now instead. Only Starlette's ``route.matches(scope)`` is called: no endpoint runs, so no
    store is touched. Best effort: an app that matches differently just stays lazy."""
    scope = {"type": "http", "path": "/__launcher_spare_warm_up__", "root_path": "",
             "method": "GET", "headers": [], "query_string": b""}  # fmt: skip
    with contextlib.suppress(Exception):
        for route in app.router.routes:
            route.matches(dict(scope))


def import_in_thread(low: bool) -> tuple[BaseException | None, int | None]:
    """Import in a thread, of lower priority if ``low``; the serving (main) thread keeps its
    own (an unprivileged thread cannot raise its priority back on Linux). Returns the import's
    failure and, when lowered, the priority the import thread had (see _lower_this_thread)."""
    failure: list[BaseException] = []
    priority: list[int | None] = [None]

    def run() -> None:
        restore: Callable[[], None] = lambda: None  # noqa: E731
        if low:
            restore, priority[0] = _lower_this_thread()
        try:
            import_server()
        except BaseException as exc:  # reported by the caller
            failure.append(exc)
        finally:
            restore()

    worker = threading.Thread(target=run, name="spare-import", daemon=True)
    worker.start()
    worker.join()
    return (failure[0] if failure else None), priority[0]


def _lower_this_thread() -> tuple[Callable[[], None], int | None]:
    """Lower the calling thread's priority; returns how to undo it (best effort) and the
    priority the system reports for the thread afterwards (Windows: the thread priority,
    -1 is below normal; Linux: its nice value), for the log."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]
        kernel32.GetCurrentThread.restype = wintypes.HANDLE
        kernel32.SetThreadPriority.argtypes = [wintypes.HANDLE, ctypes.c_int]
        kernel32.GetThreadPriority.argtypes = [wintypes.HANDLE]
        thread = kernel32.GetCurrentThread()
        kernel32.SetThreadPriority(thread, -1)  # THREAD_PRIORITY_BELOW_NORMAL
        return (lambda: kernel32.SetThreadPriority(thread, 0)), int(
            kernel32.GetThreadPriority(thread)
        )
    if not hasattr(os, "setpriority"):
        return (lambda: None), None
    # On Linux a nice value belongs to the thread (its native id); elsewhere this is skipped.
    if not sys.platform.startswith("linux"):
        return (lambda: None), None
    tid = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, before + _BELOW_NORMAL_NICE))
        now = os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return (lambda: None), None

    def restore() -> None:
        # Unprivileged this fails; the thread ends right after anyway.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, before)

    return restore, now
