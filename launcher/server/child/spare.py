"""A warm spare server: MLflow's server imported ahead of the click, no store opened yet.

Run by ``main.py spare --host H`` (frozen: ``launcher.exe --serve-child spare --host H``), in the
launcher's own Python only. Like ``child/main.py`` it imports only the standard library at module
level and nothing from ``launcher``.

Why: importing ``mlflow.server.fastapi_app`` is most of a start (about 6 s here) and depends on
no store. The spare does it in advance and then waits. Its life:

1. Bind a free loopback port (the launcher gives that port to the project it serves) and say so
   on stdout: ``LAUNCHER-SPARE: {"port": N}``.
2. Import uvicorn and MLflow's server in a low-priority thread (a user working on the machine
   does not feel it), then say ``LAUNCHER-SPARE: {"warm": true}``. With ``--priority normal``
   (the pool refilling right after a click used a spare: more clicks may follow) the import
   runs at the process's own priority, so it does not queue behind other work.
3. Wait for one JSON line on stdin: ``{"env": {...}, "host": H, "port": N}``. ``env`` is the whole
   environment a fresh server of that project would have been started with (any variable a
   later feature adds travels with it). The spare takes it as its own and serves exactly as
   ``child/main.py serve`` does, reading the stores only now.

Settings MLflow reads while it is imported (a static prefix, allowed hosts, CORS, Prometheus,
...) cannot change afterwards: only the variables in :data:`LATE_VARS` may differ between the
spare's environment and the project's. The launcher checks that before it hands a project over;
the spare checks again, against the ``started_with`` environment the launcher sends along, and
refuses (exit 6, nothing served) rather than serve differently (:func:`environment_to_serve`).

Standard input closing is the lifeline, as for every server: before assignment the spare exits
at once; after, it stops like a served project.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

SPARE_MARK = "LAUNCHER-SPARE:"
EXIT_SPARE_MISMATCH = 6
EXIT_NO_SETTINGS = 7

LATE_VARS = frozenset(
    {
        # Read by initialize_backend_stores, i.e. when the stores are opened.
        "_MLFLOW_SERVER_FILE_STORE",
        "_MLFLOW_SERVER_REGISTRY_STORE",
        "_MLFLOW_SERVER_ARTIFACT_ROOT",
        # Read per request (mlflow/server/handlers.py, artifact_router.py).
        "_MLFLOW_SERVER_ARTIFACT_DESTINATION",
        # Read by the sandbox and scorers when they run.
        "_MLFLOW_SERVER_BOOT_ID",
        # Read by FileStore() when a folder store is opened.
        "MLFLOW_ALLOW_FILE_STORE",
        # The launcher's own, read by child.serve when it wraps the app (access_gate.py).
        "_MLFLOW_LAUNCHER_ACCESS_KEY",
        "_MLFLOW_LAUNCHER_PROJECT",
        # A fast view's read-only guard (readonly_guard.py), also wrapped at serve time.
        "_LAUNCHER_READ_ONLY",
        # A PostgreSQL store's password (launcher.model.credentials): libpq reads it when it
        # connects, i.e. when the stores are opened.
        "PGPASSWORD",
    }
)
"""Variables MLflow 3 reads only after its server is imported (checked in its 3.17 source).
A variable a new feature passes to each server, read when serving, belongs here too."""

_BELOW_NORMAL_NICE = 10


def comparable(env: dict[str, str]) -> dict[str, str]:
    """The part of an environment that must be equal for a spare to serve like a fresh server."""
    return {k: v for k, v in env.items() if k not in LATE_VARS}


def _say(payload: dict[str, Any]) -> None:
    print(f"{SPARE_MARK} {json.dumps(payload)}", flush=True)


def _own_stdin() -> BinaryIO:
    """The launcher's pipe, for this module's reader alone.

    Windows: on a synchronous pipe every call waits while another is pending, so with our
    thread blocked reading it, anything else asking about standard input (an import checking
    for a console did, and so does serving) waits for good: under Wine the spare never got
    warm. There the pipe moves to a private descriptor and descriptor 0 (``sys.stdin``,
    ``STD_INPUT_HANDLE``, what children inherit) becomes an idle pipe of its own, never
    written, never closed. POSIX has no such lock: standard input as it is.
    """
    if os.name != "nt":
        return sys.stdin.buffer
    import ctypes
    import msvcrt
    from ctypes import wintypes

    private = os.dup(0)
    idle_read, _idle_write = os.pipe()  # the write end stays open: a read would wait, not end
    os.dup2(idle_read, 0)
    os.close(idle_read)
    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]
    kernel32.SetStdHandle.argtypes = [wintypes.DWORD, wintypes.HANDLE]
    kernel32.SetStdHandle(wintypes.DWORD(-10 & 0xFFFFFFFF), msvcrt.get_osfhandle(0))  # type: ignore[attr-defined]
    return os.fdopen(private, "rb")


class _Pipe:
    """Standard input: the first line is the settings, its end is the launcher going away."""

    def __init__(self) -> None:
        self._settings: str | None = None
        self._got = threading.Event()
        self._on_close: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._stream = _own_stdin()
        threading.Thread(target=self._read, name="spare-pipe", daemon=True).start()

    def _read(self) -> None:
        try:
            line = self._stream.readline()
        except Exception:
            line = b""
        if not line:
            # The launcher went away before it needed us: nothing was opened, nothing to undo.
            os._exit(0)
        self._settings = line.decode("utf-8", "replace")
        self._got.set()
        try:
            while self._stream.read(1024):
                pass
        except Exception:
            pass
        with self._lock:
            callback = self._on_close
            self._on_close = None
        if callback is not None:
            callback()
        else:
            os._exit(0)

    def settings(self) -> str:
        self._got.wait()
        return self._settings or ""

    def watch(self, on_close: Callable[[], None]) -> None:
        """``child.serve``'s hook: call ``on_close`` when the launcher's end closes."""
        with self._lock:
            self._on_close = on_close


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
imports them ahead too: after a hand-over, the store and the socket are all that is left
(with :func:`_match_every_route`, settings to /health OK took 0.04 s on a folder store here,
0.30 s before). Read from MLflow 3.17 with uvicorn and anyio of its time; a name a later
version lacks is skipped (tests/server/child/test_spare_warm_up.py says when)."""


def _import_server() -> None:
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
    time a request is matched: 0.17 s of the first ``/health`` after a hand-over here, done
    now instead. Only Starlette's ``route.matches(scope)`` is called: no endpoint runs, so no
    store is touched. Best effort: an app that matches differently just stays lazy."""
    scope = {"type": "http", "path": "/__launcher_spare_warm_up__", "root_path": "",
             "method": "GET", "headers": [], "query_string": b""}  # fmt: skip
    with contextlib.suppress(Exception):
        for route in app.router.routes:
            route.matches(dict(scope))


def _import_in_thread(low: bool) -> tuple[BaseException | None, int | None]:
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
            _import_server()
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
    if os.name == "nt":  # pragma: no cover - Windows only
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


def _leave(code: int) -> int:
    """Exit now: the pipe thread blocked reading stdin would make a normal interpreter
    shutdown abort ("could not acquire lock for <stdin>", SIGABRT)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def spare(
    host: str,
    serve: Callable[..., int],
    bind: Callable[[str, int], socket.socket],
    error: Callable[[str, str], None],
    *,
    low: bool = True,
) -> int:
    """Wait warm for a project, then serve it with ``child.serve`` on the pre-bound socket.

    ``low``: import at low priority (the default: an idle tray's spare).

    Once the pipe is read, every way out goes through :func:`_leave`."""
    try:
        sock = bind(host, 0)
    except OSError as exc:
        error("port-taken", f"cannot listen on {host}: {exc}")
        return 3
    port = int(sock.getsockname()[1])
    pipe = _Pipe()
    _say({"port": port})
    before = comparable(dict(os.environ))
    failed, priority = _import_in_thread(low)
    if failed is not None:
        error("mlflow-missing", f"{type(failed).__name__}: {failed}")
        return _leave(4)
    _say({"warm": True, "import_priority": priority})
    try:
        settings = json.loads(pipe.settings())
        env = {str(k): str(v) for k, v in dict(settings["env"]).items()}
        started = settings.get("started_with")
        started_with = before if started is None else {str(k): str(v) for k, v in started.items()}
        wanted_host, wanted_port = str(settings["host"]), int(settings["port"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        error("spare", f"unreadable settings: {exc}")
        return _leave(EXIT_NO_SETTINGS)
    if (wanted_host, wanted_port) != (host, port):
        error("spare", f"asked to serve {wanted_host}:{wanted_port}, bound {host}:{port}")
        return _leave(EXIT_SPARE_MISMATCH)
    serving, differing = environment_to_serve(before, started_with, env)
    if differing:
        # Already imported with other values: serving now would not be what a fresh server is.
        error("spare", "settings read at import differ: " + ", ".join(differing))
        return _leave(EXIT_SPARE_MISMATCH)
    os.environ.clear()
    os.environ.update(serving)
    return _leave(serve(host, port, True, sock=sock, watch=pipe.watch))


def environment_to_serve(
    own: dict[str, str], started_with: dict[str, str], env: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The environment to serve ``env`` with, and the import-time variables in which ``env``
    differs from what the spare was started with (then it must not serve).

    ``own`` is the spare's environment as its import saw it, ``started_with`` what the launcher
    started it with. They differ where the process's own start changed something: a frozen
    bundle's bootloader puts its folders on PATH (under Wine a spare refused every project for
    that). A fresh server of the project would start the same way, so those changes are kept
    and the project's values apply to everything else."""
    differing = sorted(
        k for k in set(started_with) | set(comparable(env)) if started_with.get(k) != env.get(k)
    )
    serving = dict(env)
    for key in set(own) | set(started_with):
        if key in LATE_VARS or own.get(key) == started_with.get(key):
            continue
        if key in own:
            serving[key] = own[key]
        else:
            serving.pop(key, None)
    return serving, differing
