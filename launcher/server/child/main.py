"""A server process's entry: the commands the launcher runs in a project's Python.

``serve`` is one project's server (MLflow's app under uvicorn, one worker, in-process), and
``host`` a process that serves many (``host.py``, what the tray uses); the others ask about or
change a store.

This file runs inside the project's Python environment, which may not have the launcher
installed, so it imports nothing from ``launcher`` and only the standard library at module
level: the launcher runs it as ``python main.py ...`` (or, frozen, as ``launcher.exe
--serve-child ...``).

Why in-process: ``mlflow server`` starts a parent that spawns ``python -m uvicorn`` with four
workers (about 13 s and 1.3 GB); one worker in this process is ready in about 2.5 s with 250 MB,
and there is a single process to stop. The parent sets the ``_MLFLOW_SERVER_*`` variables exactly
as ``mlflow server`` does for its child, so MLflow's app and security middleware see the same
configuration.

Commands:
  probe                      print JSON about this environment's MLflow
  serve --host H --port P    serve in-process (lean)
  host --host H [--priority low|normal]
                             a host: import MLflow's server (at low priority unless told
                             otherwise), then serve the projects the launcher mounts through
                             stdin, each on its own port (``host.py``)
  fallback --host H --port P -- ARGS   run ``python -m mlflow server --workers 1 ARGS`` as a child
  revision [URI]             print JSON with a SQL store's alembic revision and tables
  upgrade [URI]              upgrade a SQL store's schema (only ever run on explicit request)
                             (the launcher passes the URI in _LAUNCHER_STORE_URI, never in the
                             argv: it may carry a database password)
  migrate SOURCE TARGET      copy a folder store into a new SQLite file (``migrate.py``)
  copy-db SOURCE             copy a SQLite store into the database whose URL is in the
                             environment (``copy_db.py``; never in argv)

With ``--watch-stdin`` the process exits when its standard input closes: the launcher holds the
other end, so even a SIGKILLed launcher takes its servers with it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

_SIBLING_LOCK = threading.RLock()


def _sibling(name: str) -> Any:
    """A standard-library-only module of this package (``host``, ``migrate``, ``protocol`` ...).

    Run as a script this folder is not on ``sys.path`` (see the end of this file), so it is
    loaded from its path; frozen or imported, this file is ``launcher.server.child.main`` and
    imports it so.
    """
    import importlib

    if getattr(sys, "frozen", False) or __package__:
        return importlib.import_module(f"launcher.server.child.{name}")
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    # Locked: a host's mounts run in threads, and a module is in sys.modules before it has
    # run, so a second thread must wait for the first one's load, not take it half made.
    with _SIBLING_LOCK:
        loaded = sys.modules.get(f"_launcher_child_{name}")
        if loaded is not None:
            return loaded
        spec = importlib.util.spec_from_file_location(f"_launcher_child_{name}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{path} cannot be loaded")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[spec.name]
            raise
        return module


_protocol = _sibling("protocol")
EXIT_PORT_TAKEN: int = _protocol.EXIT_PORT_TAKEN
EXIT_MLFLOW_MISSING: int = _protocol.EXIT_MLFLOW_MISSING
EXIT_STORE_FAILED: int = _protocol.EXIT_STORE_FAILED
ERROR_MARK: str = _protocol.ERROR_MARK
STOP_GRACE_SECONDS: float = _protocol.STOP_GRACE_SECONDS
STORE_URI_VAR: str = _protocol.STORE_URI_VAR


def _error(kind: str, message: str) -> None:
    """One machine-readable line the launcher turns into a named cause."""
    print(f"{ERROR_MARK} {kind}: {message}", file=sys.stderr, flush=True)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before importing MLflow, so a taken port fails in milliseconds, not seconds."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if os.name == "nt":
        # SO_REUSEADDR on Windows would let us steal a port in use; ask for exclusivity.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def _watch_stdin(on_close: Callable[[], None]) -> None:
    """The launcher's pipe closing calls ``on_close`` (``stdin_pipe.py``, safe on Windows)."""
    _sibling("stdin_pipe").follow(on_close)


def _exit_soon(code: int = 0) -> None:
    """A last resort when a graceful stop hangs (a stuck request, a dead share)."""

    def run() -> None:
        time.sleep(STOP_GRACE_SECONDS)
        os._exit(code)

    threading.Thread(target=run, name="exit-timer", daemon=True).start()


def serve(host: str, port: int, watch_stdin: bool) -> int:
    """Serve one project in this process (a host serves several: ``host.py``)."""
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        _error("port-taken", f"cannot listen on {host}:{port}: {exc}")
        return EXIT_PORT_TAKEN
    try:
        import uvicorn
        from mlflow.server.handlers import initialize_backend_stores
    except ImportError as exc:
        _error("mlflow-missing", f"{exc}")
        return EXIT_MLFLOW_MISSING
    try:
        initialize_backend_stores(
            os.environ["_MLFLOW_SERVER_FILE_STORE"],
            os.environ.get("_MLFLOW_SERVER_REGISTRY_STORE"),
            os.environ.get("_MLFLOW_SERVER_ARTIFACT_ROOT"),
        )
    except Exception as exc:
        traceback.print_exc()
        _error("store", f"{type(exc).__name__}: {exc}")
        return EXIT_STORE_FAILED

    import mlflow.server as mlflow_server
    from mlflow.server.fastapi_app import app

    if os.environ.get("_LAUNCHER_READ_ONLY"):  # a fast view: readonly_guard.py
        app = _sibling("readonly_guard").ReadOnly(app, os.environ["_LAUNCHER_READ_ONLY"])
    try:
        guarded = _sibling("access_gate").wrap_from_environ(app, port)  # see access_gate.py
    except Exception as exc:  # never serve unguarded when a key was meant to guard it
        _error("access-key", f"the access gate could not be loaded: {exc}")
        return 1
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
            _exit_soon()

        _watch_stdin(parent_gone)
    server.run(sockets=[sock])
    return 0


def fallback(host: str, port: int, extra: list[str], watch_stdin: bool) -> int:
    """For environments whose MLflow lacks the internals the lean server uses."""
    cmd = [sys.executable, "-m", "mlflow", "server", "--workers", "1"]
    cmd += ["--host", host, "--port", str(port), *extra]
    kwargs: dict[str, Any] = {}
    if os.name == "nt":
        kwargs["creationflags"] = subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined]
    else:
        kwargs["start_new_session"] = True
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kwargs)

    def stop_tree() -> None:
        if proc.poll() is not None:
            return
        if os.name == "nt":
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
                proc.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    if watch_stdin:
        _watch_stdin(stop_tree)
    if os.name != "nt":
        import signal

        def on_signal(signum: int, frame: Any) -> None:
            stop_tree()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    try:
        return proc.wait()
    finally:
        stop_tree()


def _engine(uri: str) -> Any:
    import sqlalchemy

    return sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)


def revision(uri: str) -> dict[str, Any]:
    """Read a SQL store's alembic revision: read-only, nothing is created."""
    import sqlalchemy

    engine = _engine(uri)
    try:
        with engine.connect() as conn:
            tables = sorted(sqlalchemy.inspect(conn).get_table_names())
            rev = None
            if "alembic_version" in tables:
                rows = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
                rev = next((r[0] for r in rows), None)
            experiments = None
            if "experiments" in tables:
                experiments = conn.execute(
                    sqlalchemy.text(
                        "SELECT COUNT(*) FROM experiments WHERE lifecycle_stage = 'active'"
                    )
                ).scalar()
        return {"revision": rev, "tables": tables, "experiments": experiments}
    finally:
        engine.dispose()


def upgrade(uri: str) -> int:
    try:
        from mlflow.store.db.utils import _upgrade_db
    except ImportError:
        # `mlflow db upgrade URI`, run in this process: the URI may carry a database password,
        # which a child's command line would show in every process list.
        from mlflow.db import commands

        try:
            commands.main(["upgrade", uri], prog_name="mlflow db", standalone_mode=False)
        except SystemExit as exc:
            return int(exc.code or 0) if not isinstance(exc.code, str) else 1
        return 0
    import sqlalchemy

    engine = _engine(uri)
    try:
        tables = sqlalchemy.inspect(engine).get_table_names()
        if any(not t.startswith("alembic_") for t in tables):
            _upgrade_db(engine)
        else:
            # An empty database: MLflow's first migration alters tables it expects to exist
            # ("relation metrics does not exist"), so its own store creates the initial tables
            # first, then migrates; do the same.
            from mlflow.store.db.utils import _initialize_tables

            _initialize_tables(engine)
    finally:
        engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="launcher-serve-child")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("probe")
    p = sub.add_parser("host")
    p.add_argument("--host", required=True)
    p.add_argument("--priority", choices=("low", "normal"), default="low")
    for name in ("serve", "fallback"):
        p = sub.add_parser(name)
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--watch-stdin", action="store_true")
        p.add_argument("extra", nargs="*")
    for name in ("revision", "upgrade"):
        sub.add_parser(name).add_argument("uri", nargs="?")
    p = sub.add_parser("migrate")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--registry")
    p.add_argument("--watch-stdin", action="store_true")
    p = sub.add_parser("copy-db")
    p.add_argument("source")
    p.add_argument("--watch-stdin", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "copy-db":
        if args.watch_stdin:
            _watch_stdin(lambda: os._exit(1))  # the launcher gone or cancelling: no commit
        code = int(_sibling("copy_db").copy(args.source))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if args.command == "migrate":
        if not args.watch_stdin:
            return int(_sibling("migrate").migrate(args.source, args.target, args.registry))
        _watch_stdin(lambda: os._exit(1))
        code = int(_sibling("migrate").migrate(args.source, args.target, args.registry))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # the stdin watcher would crash a normal shutdown blocked in its read
    if args.command == "probe":
        print(json.dumps(_sibling("probe").probe()))
        return 0
    if args.command == "serve":
        return serve(args.host, args.port, args.watch_stdin)
    if args.command == "host":
        low = args.priority == "low"
        return int(_sibling("host").run(args.host, _sibling, bind_socket, _error, low=low))
    if args.command == "fallback":
        return fallback(args.host, args.port, args.extra, args.watch_stdin)
    if args.command in ("revision", "upgrade") and not args.uri:
        args.uri = os.environ.get(STORE_URI_VAR, "")
        if not args.uri:
            parser.error(f"give a store URI or set {STORE_URI_VAR}")
    if args.command == "revision":
        try:
            print(json.dumps(revision(args.uri)))
        except Exception as exc:
            _error("store", f"{type(exc).__name__}: {exc}")
            return EXIT_STORE_FAILED
        return 0
    return upgrade(args.uri)


if __name__ == "__main__":
    # Run as a script, this file's folder is sys.path[0]; its sibling modules must not shadow
    # the standard library or MLflow's imports in the serving environment.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
    sys.exit(main())
