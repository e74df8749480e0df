"""Serving one project in this process (``serve``), or through ``mlflow server`` (``fallback``).

Why in-process: ``mlflow server`` starts a parent that spawns ``python -m uvicorn`` with four
workers (about 13 s and 1.3 GB); one worker in this process is ready in about 2.5 s with 250 MB,
and there is a single process to stop. The launcher sets the ``_MLFLOW_SERVER_*`` variables
exactly as ``mlflow server`` does for its child, so MLflow's app and security middleware see the
same configuration. A host serves many projects in one process (``host.py``, what the tray uses);
``serve`` is the one-project server of ``mlflow-launcher serve`` and of a project a host cannot
take. ``fallback`` is for an MLflow older than the FastAPI server (no access key, no warm start).

Standard library only at module level (MLflow is imported inside the functions).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from typing import Any

from . import access_gate, protocol, readonly_guard, stdin_pipe


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before importing MLflow, so a taken port fails in milliseconds, not seconds."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if sys.platform == "win32":
        # SO_REUSEADDR on Windows would let us steal a port in use; ask for exclusivity.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def exit_soon(code: int = 0) -> None:
    """A last resort when a graceful stop hangs (a stuck request, a dead share)."""

    def run() -> None:
        time.sleep(protocol.STOP_GRACE_SECONDS)
        os._exit(code)

    threading.Thread(target=run, name="exit-timer", daemon=True).start()


def serve(host: str, port: int, watch_stdin: bool) -> int:
    """Serve one project in this process (a host serves several: ``host.py``)."""
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        protocol.error("port-taken", f"cannot listen on {host}:{port}: {exc}")
        return protocol.EXIT_PORT_TAKEN
    try:
        import uvicorn
        from mlflow.server.handlers import initialize_backend_stores
    except ImportError as exc:
        protocol.error("mlflow-missing", f"{exc}")
        return protocol.EXIT_MLFLOW_MISSING
    try:
        initialize_backend_stores(
            os.environ["_MLFLOW_SERVER_FILE_STORE"],
            os.environ.get("_MLFLOW_SERVER_REGISTRY_STORE"),
            os.environ.get("_MLFLOW_SERVER_ARTIFACT_ROOT"),
        )
    except Exception as exc:
        traceback.print_exc()
        protocol.error("store", f"{type(exc).__name__}: {exc}")
        return protocol.EXIT_STORE_FAILED

    import mlflow.server as mlflow_server
    from mlflow.server.fastapi_app import app

    if os.environ.get(protocol.READ_ONLY_VAR):  # a fast view
        app = readonly_guard.ReadOnly(app, os.environ[protocol.READ_ONLY_VAR])
    try:
        guarded = access_gate.wrap_from_environ(app, port)
    except Exception as exc:  # never serve unguarded when a key was meant to guard it
        protocol.error("access-key", f"the access gate could not be loaded: {exc}")
        return protocol.EXIT_FAILED
    log_config = os.path.join(os.path.dirname(mlflow_server.__file__), "uvicorn_log_config.yaml")
    config = uvicorn.Config(
        guarded,
        host=host,
        port=port,
        log_config=log_config if os.path.exists(log_config) else None,
        workers=1,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    if watch_stdin:

        def parent_gone() -> None:
            server.should_exit = True
            exit_soon()

        stdin_pipe.follow(parent_gone)
    server.run(sockets=[sock])
    return 0


def fallback(host: str, port: int, extra: list[str], watch_stdin: bool) -> int:
    """For environments whose MLflow lacks the internals the lean server uses."""
    cmd = [sys.executable, "-m", "mlflow", "server", "--workers", "1"]
    cmd += ["--host", host, "--port", str(port), *extra]
    kwargs: dict[str, Any] = {}
    if sys.platform == "win32":
        kwargs["creationflags"] = subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined]
    else:
        kwargs["start_new_session"] = True
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kwargs)

    def stop_tree() -> None:
        if proc.poll() is not None:
            return
        if sys.platform == "win32":
            subprocess.run(
                ["taskkill", "/T", "/F", "/PID", str(proc.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            return
        import signal

        try:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(protocol.STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    if watch_stdin:
        stdin_pipe.follow(stop_tree)
    if sys.platform != "win32":
        import signal

        def on_signal(signum: int, frame: Any) -> None:
            stop_tree()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    try:
        return proc.wait()
    finally:
        stop_tree()
