"""A host: one server process that serves any number of projects of one Python environment.

Run by ``commands.py host --host H`` (frozen: ``launcher.exe --serve-child host --host H``).
Its life:

1. Import MLflow's server ahead, in a low-priority thread (``warm_up.py``; ``--priority
   normal`` when a click waits for it), install the per-project routing (``routing.py``), then
   say ``LAUNCHER-HOST: {"event": "warm", ...}``.
2. Read requests from the launcher's pipe, one JSON object a line (``stdin_pipe.py``):
   ``{"op": "mount", "id": NAME, "port": P, "env": {...}, "started_with": {...}}`` serves a
   project on its own port: its stores opened now (a failure is that mount's alone), its
   read-only guard and access gate in front, its own event loop and uvicorn server in a thread
   of its own, so a store that hangs (a share gone) holds that project's worker threads and
   loop only. Answered ``{"event": "mounted", "id": ..., "port": ...}`` once it listens, or
   ``{"event": "failed", "id": ..., "kind": ..., "message": ...}``. ``{"op": "unmount", "id":
   ...}`` closes that port and forgets its stores (``{"event": "unmounted", ...}``); the others
   keep serving, and the host stays warm for the next click.
3. The pipe's end (the launcher quit, or was killed) stops every project and the process.

``env`` is the environment a process of its own would have got: only the variables that may
differ between projects (``routing.LATE_VARS``) may differ from what the host was started with
(``started_with``); otherwise the mount is refused (kind ``host-mismatch``) and the launcher
serves that project elsewhere.

Every line a project's requests write (uvicorn's access log, MLflow's warnings, tracebacks) is
prefixed with ``LAUNCHER-LINE:NAME<TAB>``, so the launcher puts it in that project's log.

Standard library only at module level, like every module of this package.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from typing import Any

from . import access_gate, protocol, readonly_guard, routing, stdin_pipe, warm_up
from .serve import bind_socket

MOUNT_TIMEOUT = 60.0


class _Tagged(io.TextIOBase):
    """A stream that prefixes each line written for a project with its tag."""

    def __init__(self, stream: Any, current: Callable[[], Any], mark: str) -> None:
        self._stream = stream
        self._current = current
        self._mark = mark
        self._partial = threading.local()
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        buffered = getattr(self._partial, "text", "") + text
        *lines, rest = buffered.split("\n")
        self._partial.text = rest
        if lines:
            project = self._current()
            tag = f"{self._mark}{project.name}\t" if project is not None else ""
            with self._lock:
                self._stream.write("".join(f"{tag}{line}\n" for line in lines))
                self._stream.flush()
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._stream.flush()

    def fileno(self) -> int:
        return int(self._stream.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", "utf-8"))


def _tag_output(current: Callable[[], Any], mark: str) -> None:
    """Every line written for a project, by print, logging or a traceback, carries its tag."""
    import logging

    tagged = {id(sys.stdout): _Tagged(sys.stdout, current, mark),
              id(sys.stderr): _Tagged(sys.stderr, current, mark)}  # fmt: skip
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            stream = getattr(handler, "stream", None)
            if isinstance(handler, logging.StreamHandler) and id(stream) in tagged:
                handler.setStream(tagged[id(stream)])
    sys.stdout, sys.stderr = tagged[id(sys.stdout)], tagged[id(sys.stderr)]
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.INFO)


def _with_password(uri: str, password: str | None) -> str:
    """A PostgreSQL URL carrying its password: libpq reads PGPASSWORD from the process's C
    environment, which one host shares between projects, so each store gets its own in its
    URL, in memory only."""
    if not password or not uri.startswith(("postgresql", "postgres")):
        return uri
    parts = urllib.parse.urlsplit(uri)
    if parts.password is not None or not parts.username:
        return uri
    netloc = f"{parts.username}:{urllib.parse.quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _make(project: Any, what: str) -> Any:
    """A project's own store, registry, artifact repository or job store (routing.Project)."""
    from mlflow.server import handlers

    env = project.env
    password = env.get("PGPASSWORD")
    if what == "_tracking_store":
        uri = _with_password(env["_MLFLOW_SERVER_FILE_STORE"], password)
        return handlers._tracking_store_registry.get_store(
            uri, env.get("_MLFLOW_SERVER_ARTIFACT_ROOT")
        )
    if what == "_model_registry_store":
        uri = env.get("_MLFLOW_SERVER_REGISTRY_STORE") or env["_MLFLOW_SERVER_FILE_STORE"]
        return handlers._model_registry_store_registry.get_store(_with_password(uri, password))
    if what == "_artifact_repo":
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        return get_artifact_repository(env["_MLFLOW_SERVER_ARTIFACT_DESTINATION"])
    if what == "_job_store":  # as handlers._get_job_store, for this project (workspaces off)
        from mlflow.exceptions import MlflowException
        from mlflow.store.jobs.sqlalchemy_store import SqlAlchemyJobStore
        from mlflow.utils.uri import extract_db_type_from_uri

        uri = _with_password(env["_MLFLOW_SERVER_FILE_STORE"], password)
        try:
            extract_db_type_from_uri(uri)
        except (MlflowException, ValueError):
            raise MlflowException.invalid_parameter_value(
                "Job store requires a backend store URI"
            ) from None
        return SqlAlchemyJobStore(uri)
    raise KeyError(what)


class _Front:
    """A project's ASGI front: names the project for everything its requests read."""

    def __init__(self, app: Any, project: Any, current: Any) -> None:
        self.app, self.project, self.current = app, project, current

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        token = self.current.set(self.project)
        try:
            await self.app(scope, receive, send)
        finally:
            self.current.reset(token)


class _Mounted:
    def __init__(self, name: str, project: Any, server: Any, thread: threading.Thread) -> None:
        self.name, self.project, self.server, self.thread = name, project, server, thread


class Host:
    """The mounted projects of this process, and the requests that change them."""

    def __init__(
        self,
        host: str,
        say: Callable[[dict[str, Any]], None],
        started_with: dict[str, str],
    ) -> None:
        self.host = host
        self.say = say
        self.started_with = started_with
        self.mounted: dict[str, _Mounted] = {}
        self._lock = threading.Lock()

    # -- requests ----------------------------------------------------------------------------

    def handle(self, line: bytes) -> None:
        """One request from the pipe; each in a thread of its own (a mount may take seconds)."""
        try:
            request = json.loads(line.decode("utf-8", "replace"))
            op, name = str(request["op"]), str(request["id"])
        except (ValueError, KeyError, TypeError) as exc:
            self.say(
                {"event": "failed", "id": "", "kind": "host", "message": f"bad request: {exc}"}
            )
            return
        target = {"mount": self.mount, "unmount": self.unmount}.get(op)
        if target is None:
            self.say({"event": "failed", "id": name, "kind": "host", "message": f"no op {op}"})
            return
        threading.Thread(
            target=target, args=(name, request), name=f"{op}-{name}", daemon=True
        ).start()

    def mount(self, name: str, request: dict[str, Any]) -> None:
        try:
            port = self._mount(name, request)
        except _Refused as exc:
            self.say({"event": "failed", "id": name, "kind": exc.kind, "message": str(exc)})
        except Exception as exc:  # a bug must answer, never leave the launcher waiting
            traceback.print_exc()
            self.say({"event": "failed", "id": name, "kind": "host", "message": repr(exc)})
        else:
            self.say({"event": "mounted", "id": name, "port": port})

    def unmount(self, name: str, request: dict[str, Any] | None = None) -> None:
        with self._lock:
            mounted = self.mounted.pop(name, None)
        if mounted is not None:
            self._stop(mounted)
        self.say({"event": "unmounted", "id": name})

    def stop_all(self) -> None:
        with self._lock:
            everything, self.mounted = list(self.mounted.values()), {}
        for mounted in everything:
            mounted.server.should_exit = True
        for mounted in everything:
            mounted.thread.join(3)

    # -- mounting ----------------------------------------------------------------------------

    def _mount(self, name: str, request: dict[str, Any]) -> int:
        env = {str(k): str(v) for k, v in dict(request["env"]).items()}
        started = request.get("started_with")
        started_with = self.started_with if started is None else dict(started)
        differing = routing.differing(started_with, env)
        if differing:
            raise _Refused(
                "host-mismatch", "settings read at import differ: " + ", ".join(differing)
            )
        with self._lock:
            if name in self.mounted:
                raise _Refused("host", f"{name} is mounted already")
        try:
            sock = bind_socket(self.host, int(request.get("port") or 0))
        except OSError as exc:
            raise _Refused("port-taken", f"cannot listen on {self.host}: {exc}") from None
        port = int(sock.getsockname()[1])
        routed = dict(env)
        # What mlflow.get_tracking_uri() answers inside this project's requests (registering a
        # model version asks it): with a PostgreSQL password in it, as libpq cannot see the
        # project's PGPASSWORD in the shared process environment.
        password = env.get("PGPASSWORD")
        store = env.get("_MLFLOW_SERVER_FILE_STORE", "")
        registry = env.get("_MLFLOW_SERVER_REGISTRY_STORE") or store
        routed.setdefault("MLFLOW_TRACKING_URI", _with_password(store, password))
        routed.setdefault("MLFLOW_REGISTRY_URI", _with_password(registry, password))
        project = routing.Project(name, routed, _make)
        current = routing.CURRENT
        token = current.set(project)
        try:  # open the stores now, as a server of its own does before it listens
            project.target("_tracking_store")
            project.target("_model_registry_store")
        except Exception as exc:
            sock.close()
            traceback.print_exc()
            raise _Refused("store", f"{type(exc).__name__}: {exc}") from None
        finally:
            current.reset(token)
        server = self._server(name, env, project, port)
        thread = threading.Thread(
            target=self._serve, args=(server, sock, project), name=f"serve-{name}", daemon=True
        )
        with self._lock:
            self.mounted[name] = _Mounted(name, project, server, thread)
        thread.start()
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                with self._lock:
                    self.mounted.pop(name, None)
                server.should_exit = True
                raise _Refused("store", f"{name} did not start serving")
            time.sleep(0.01)
        return port

    def _server(self, name: str, env: dict[str, str], project: Any, port: int) -> Any:
        import uvicorn
        from mlflow.server.fastapi_app import app

        front: Any = app
        message = env.get(protocol.READ_ONLY_VAR)
        if message:  # a fast view
            front = readonly_guard.ReadOnly(front, message)
        key = env.get(protocol.ACCESS_KEY_VAR, "")
        if key:
            front = access_gate.AccessGate(
                front,
                key,
                port=port,
                prefix=os.environ.get("_MLFLOW_STATIC_PREFIX", ""),
                project=env.get(protocol.PROJECT_VAR, ""),
            )
        config = uvicorn.Config(
            _Front(front, project, routing.CURRENT),
            host=self.host,
            port=port,
            log_config=None,
            workers=1,
            timeout_graceful_shutdown=3,
        )
        return uvicorn.Server(config)

    def _serve(self, server: Any, sock: socket.socket, project: Any) -> None:
        """A project's own thread and event loop, named for it from the start."""
        routing.CURRENT.set(project)
        try:
            server.run(sockets=[sock])
        except BaseException:
            traceback.print_exc()
        finally:
            sock.close()

    def _stop(self, mounted: _Mounted) -> None:
        mounted.server.should_exit = True
        mounted.thread.join(5)
        if mounted.thread.is_alive():
            mounted.server.force_exit = True
            mounted.thread.join(2)
        for made in mounted.project.made():  # close a database's connections (SQLite files)
            engine = getattr(made, "engine", None)
            dispose = getattr(engine, "dispose", None)
            if callable(dispose):
                with contextlib.suppress(Exception):
                    dispose()
        from mlflow.server import handlers

        for registry in (
            handlers._tracking_store_registry,
            handlers._model_registry_store_registry,
        ):
            cached = getattr(
                getattr(registry, "_get_store_with_resolved_uri", None), "cache_clear", None
            )
            if callable(cached):  # forget the store; mounted projects keep their own reference
                cached()


class _Refused(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def run(host: str, *, low: bool = True) -> int:
    """The host's life (see the module docstring); returns only by exiting the process."""

    def say(payload: dict[str, Any]) -> None:
        out = sys.__stdout__ or sys.stdout
        out.write(f"{protocol.HOST_MARK} {json.dumps(payload)}\n")
        out.flush()

    started_with = routing.comparable(dict(os.environ))
    closing = threading.Event()
    pending: list[bytes] = []  # a click before the import finished: served once warm
    the_host: list[Host] = []
    lock = threading.Lock()

    def on_line(line: bytes) -> None:
        with lock:
            if not the_host:
                pending.append(line)
                return
        the_host[0].handle(line)

    stdin_pipe.follow(closing.set, on_line)
    failed, priority = warm_up.import_in_thread(low)
    if failed is not None:
        protocol.error("mlflow-missing", f"{type(failed).__name__}: {failed}")
        return _leave(protocol.EXIT_MLFLOW_MISSING)
    from mlflow.server import handlers

    routing.install(handlers)
    _tag_output(routing.CURRENT.get, protocol.LINE_MARK)
    host_obj = Host(host, say, started_with)
    say({"event": "warm", "import_priority": priority})
    with lock:
        the_host.append(host_obj)
        waiting, pending[:] = list(pending), []
    for line in waiting:
        host_obj.handle(line)
    closing.wait()
    host_obj.stop_all()
    return _leave(0)


def _leave(code: int) -> int:
    """Exit now: the pipe thread blocked reading stdin would make a normal interpreter
    shutdown abort ("could not acquire lock for <stdin>", SIGABRT)."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass
    os._exit(code)
