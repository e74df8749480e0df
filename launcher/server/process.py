"""One project's MLflow server: checked, started, watched, and stopped with its whole tree.

Plain Python (threads, no Qt) so the CLI and the tray share it; the tray runs :meth:`start` in
a worker thread and listens through ``on_change``. States follow Syncthing Tray's model:
starting means the process runs but has no URL yet; running means ``/health`` said OK.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import Store, StoreKind, redact
from launcher.server import access_key, ports, process_tree, rest, spawn
from launcher.server.checks import preflight
from launcher.server.checks.failures import Cause, Failure, ServerFailed, classify
from launcher.server.child import protocol
from launcher.server.python import environment, telemetry
from launcher.server.python import server_command as commands
from launcher.server.server_log import ServerLog
from launcher.server.state import State
from launcher.server.stores import artifact_root, fast_view, schema

if TYPE_CHECKING:
    from launcher.server.warm.host import Mount
    from launcher.server.warm.host_pool import HostPool

log = logging.getLogger(__name__)

READY_TIMEOUT = 120.0
"""Generous: a first start on a slow share or a cold antivirus scan can take a minute."""
STOP_TIMEOUT = 5.0
PORT_ATTEMPTS = 5
SERVE_AGAIN_SECONDS = 30.0
"""How long a project whose host died waits for its own port to be free again."""


class MlflowServer:
    """The server of one project. ``start`` blocks until ready; ``stop`` works from any thread."""

    def __init__(
        self,
        project: Project,
        paths: AppPaths,
        *,
        upgrade_schema: bool = False,
        ready_timeout: float = READY_TIMEOUT,
        on_change: Callable[[MlflowServer], None] | None = None,
        hosts: HostPool | None = None,
    ) -> None:
        """``hosts``: the processes that serve many projects each (launcher.server.warm);
        without them (the CLI), every project gets a process of its own."""
        self.hosts = hosts
        self.project = project
        self.paths = paths
        self.upgrade_schema = upgrade_schema
        self.ready_timeout = ready_timeout
        self.on_change = on_change
        self.log_path = paths.server_log(project.slug)
        self.state = State.STOPPED
        self.url: str | None = None
        self.port: int | None = None
        self.failure: Failure | None = None
        self.lean: bool | None = None
        self.access_key: str | None = None
        """This start's key (see launcher.server.access_key); None when it has none."""
        self.started_at: float | None = None
        self.last_activity = time.monotonic()
        self._proc: subprocess.Popen[bytes] | None = None
        self._mount: Mount | None = None
        """Served by a host: its mount (then ``_proc`` is None)."""
        self._cmd: commands.ServerCommand | None = None
        """The last command served: a host that dies serves it again on the same port."""
        self._reader: threading.Thread | None = None
        self._log = ServerLog(self.log_path)
        self._lock = threading.RLock()
        self._start_lock = threading.Lock()
        self._stop_requested = threading.Event()
        self.fast_view: fast_view.View | None = None
        """The fast view's copy this server serves (None: the store itself)."""

    # -- public ---------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The serving process: a host serves other projects too."""
        proc = self._serving()
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def hosted(self) -> bool:
        """Served by a host (with other projects) rather than a process of its own."""
        return self._mount is not None

    def is_alive(self) -> bool:
        proc = self._serving()
        return proc is not None and proc.poll() is None

    def _serving(self) -> subprocess.Popen[bytes] | Mount | None:
        return self._mount if self._mount is not None else self._proc

    def log_tail(self, lines: int = 30) -> list[str]:
        return self._log.tail(lines)

    def start(self) -> str:
        """Check, start and wait until ``/health`` answers OK; returns the UI's URL.

        Raises :class:`ServerFailed` with a named cause; never leaves a process behind.
        Concurrent calls (a double click) wait for the first and share its result.
        """
        with self._start_lock:
            return self._start_once()

    def _start_once(self) -> str:
        with self._lock:
            if self.state is State.RUNNING and (self.is_alive() or self._serving() is None):
                return self.url or ""
            self._stop_requested.clear()
            self.failure = None
            self.url = None
            self._set_state(State.STARTING)
        try:
            url = self._start()
        except ServerFailed as exc:
            self._kill_tree()
            with self._lock:
                self.failure = exc.failure
                self._set_state(
                    State.STOPPED if exc.failure.cause is Cause.STOPPED else State.FAILED
                )
            self._log.note(f"=== failed: {exc.failure}")
            raise
        except Exception as exc:
            self._kill_tree()
            log.exception("unexpected error starting %s", self.project.name)
            failure = Failure(Cause.UNKNOWN, f"{type(exc).__name__}: {exc}", self.log_tail())
            with self._lock:
                self.failure = failure
                self._set_state(State.FAILED)
            raise ServerFailed(failure) from exc
        except BaseException:
            # Ctrl-C or SIGTERM in the CLI: never leave a half-started server behind.
            self._kill_tree()
            with self._lock:
                self._set_state(State.STOPPED)
            raise
        with self._lock:
            self.url = url
            self.last_activity = time.monotonic()
            self._set_state(State.RUNNING)
        return url

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Graceful first (SIGTERM, and closing the lifeline pipe), then the whole tree; a
        project served by a host is unmounted, and the host serves on."""
        self._stop_requested.set()
        mount = self._mount
        if mount is not None and mount.poll() is None:
            mount.unmount(timeout + 5)
            self._log.note("=== stopped (unmounted from its host)")
            access_key.stopped(self.paths, self.project, mount.pid)
        proc = self._proc
        if proc is not None and proc.poll() is None:
            descendants = process_tree.descendants(proc.pid)
            if sys.platform != "win32":
                with contextlib.suppress(OSError):
                    proc.terminate()
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning(
                    "%s did not stop in %.0f s; killing its tree", self.project.name, timeout
                )
            process_tree.kill(proc.pid, descendants)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(2)
            self._log.note("=== stopped")
            access_key.stopped(self.paths, self.project, proc.pid)
        self._finish_reader()
        with self._lock:
            if self.state is not State.FAILED or proc is not None or mount is not None:
                self.url = None
                self._set_state(State.STOPPED)

    def wait(self) -> int | None:
        """Block until the server stops serving (the CLI's foreground mode, the manager's
        watch). A host that dies is replaced: the project is served again on its port."""
        while True:
            proc = self._serving()
            if proc is None:
                return None
            while True:
                try:
                    # Polled: on Windows an endless Popen.wait() cannot be interrupted by Ctrl-C.
                    code = proc.wait(0.5)
                    break
                except subprocess.TimeoutExpired:
                    continue
            if not (self._mount is not None and self._mount.host_gone and self._serve_again()):
                break
        self._finish_reader()
        with self._lock:
            if self.state is State.RUNNING and not self._stop_requested.is_set():
                self.failure = classify(code, self.log_tail(60))
                self._set_state(State.FAILED)
        return code

    # -- steps -----------------------------------------------------------------------------

    def _start(self) -> str:
        """The pre-flight (the checks ``doctor`` runs too), then the server."""
        store, found = preflight.parse_store(self.project)
        found.raise_if_error()
        assert store is not None
        if store.kind is StoreKind.REMOTE:
            preflight.remote_answers(store).raise_if_error()
            self.lean = None
            return store.uri + "/"
        env, found = preflight.resolve_environment(self.project)
        found.raise_if_error()
        assert env is not None
        if self.project.fast_view:  # serve its local read-only copy instead
            store, self.fast_view = fast_view.serving_store(self.project, self.paths)
        preflight.store_reachable(store, self.paths).raise_if_error()
        preflight.create_own_store(store, self.paths)
        check, found = preflight.schema_fits(store, env, self.paths, self.project.name)
        if found.cause is Cause.SCHEMA_OUTDATED and self.upgrade_schema:
            self._upgrade(store, env, check)
        else:
            found.raise_if_error()
        return self._spawn_until_ready(store, env)

    def _upgrade(self, store: Store, env: environment.PythonEnv, check: schema.SchemaCheck) -> None:
        """The schema upgrade the user asked for, a SQLite file copied aside first."""
        self._log.open()
        if (
            store.kind is StoreKind.SQLITE
            and store.path
            and check.state is not schema.SchemaState.EMPTY
        ):
            backup = schema.backup_sqlite(store.path, check.revision)
            self._log.note(f"=== copied {store.path} to {backup} before upgrading its schema")
        self._log.note(f"=== upgrading the schema of {store.display} (asked for explicitly)")
        code, lines = schema.run_upgrade(store, env, self._work_dir())
        for line in lines:
            self._log.record(line)
        if code != 0:
            failure = classify(code, self.log_tail(40))
            raise ServerFailed(
                Failure(
                    failure.cause, f"the schema upgrade failed: {failure.message}", failure.log_tail
                )
            )
        after = schema.check(store, env)
        if after.state is not schema.SchemaState.CURRENT:
            message = f"after the upgrade the schema is {after.state.value}."
            raise ServerFailed(Failure(Cause.SCHEMA_OUTDATED, message))

    def _spawn_until_ready(self, store: Store, env: environment.PythonEnv) -> str:
        host, fixed_port = commands.host_and_port(self.project)
        artifacts = (
            Path(self.project.artifacts).expanduser()
            if self.project.artifacts
            else self.paths.artifacts_dir(self.project.slug)
        )
        if not artifacts.exists() and self.paths.owns(artifacts):
            artifacts.mkdir(parents=True, exist_ok=True)
        registry_dir = self.paths.registry_dir(self.project.slug)
        registry = commands.registry_for(store, registry_dir)
        if registry is not None:
            registry_dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(1 if fixed_port else PORT_ATTEMPTS):
            port = fixed_port or ports.free_port(host)
            cmd = commands.build(
                self.project,
                store,
                env,
                port=port,
                artifacts_dir=artifacts,
                work_dir=Path(self._work_dir()),
                base_env=telemetry.server_env(dict(os.environ), self.paths),
                registry_uri=registry,
                artifact_root=artifact_root.root_for(self.project, store, self.paths),
            )
            if self.fast_view is not None:
                cmd.env.update(fast_view.guard_env(self.project, self.fast_view, cmd.lean))
            cmd, self.access_key = access_key.guard(cmd, self.project, self.paths)
            self.lean = cmd.lean
            self.port = port
            if registry is not None:
                self._log.note(f"=== the store has no models/ folder; model registry: {registry}")
            failure = self._run_until_ready(cmd)
            if failure is None:
                access_key.started(
                    self.paths, self.project, cmd.base_url, self.pid, self.access_key
                )
                return cmd.base_url
            if failure.cause is Cause.PORT_TAKEN and not fixed_port:
                self._log.note(f"=== port {port} was taken meanwhile; trying another")
                continue
            raise ServerFailed(failure)
        raise ServerFailed(Failure(Cause.PORT_TAKEN, "no free port could be bound after retries."))

    def _run_until_ready(self, cmd: commands.ServerCommand) -> Failure | None:
        self._log.open()
        self._cmd = cmd
        mode = "lean (one in-process worker)" if cmd.lean else "fallback (mlflow server)"
        self._log.note(f"=== starting {self.project.name!r} on {cmd.base_url} [{mode}]")
        if self.hosts is not None:
            hosted, failure = self._mount_in_host(cmd)
            if hosted:
                return failure
        self._log.note("=== " + redact(" ".join(cmd.argv)))
        try:
            proc = spawn.spawn(cmd.argv, cwd=cmd.cwd, env=cmd.env)
        except OSError as exc:
            return Failure(Cause.PYTHON_MISSING, f"could not run {cmd.argv[0]}: {exc}")
        with self._lock:
            self._proc = proc
            self.started_at = time.monotonic()
        self._reader = threading.Thread(
            target=self._read_output,
            args=(proc.stdout,),
            name=f"log-{self.project.slug}",
            daemon=True,
        )
        self._reader.start()
        return self._wait_ready(cmd, proc)

    def _mount_in_host(self, cmd: commands.ServerCommand) -> tuple[bool, Failure | None]:
        """Serve from the host of this project's Python environment (launcher.server.warm).

        ``(False, None)`` when no host can serve this project as a process of its own would
        (then it gets one); else ``(True, None)`` serving, or ``(True, failure)``."""
        from launcher.server.warm.host import HostRefused

        assert self.hosts is not None
        started = time.monotonic()
        try:
            mount = self.hosts.mount(cmd, self.project.slug, self._take_line)
        except HostRefused as exc:
            code = {"port-taken": protocol.EXIT_PORT_TAKEN}.get(exc.kind, protocol.EXIT_FAILED)
            line = protocol.error_line(exc.kind, str(exc))
            self._log.record(line)
            return True, classify(code, [*self.log_tail(40), line])
        if mount is None:
            return False, None
        self._log.note(
            f"=== served by the host (pid {mount.pid}) with every project of this Python "
            f"environment, on port {mount.port}"
        )
        with self._lock:
            self._mount = mount
            self._proc = None
            self.started_at = started
        return True, self._wait_ready(cmd, mount)

    def _serve_again(self) -> bool:
        """The host died while serving this project: serve it again on the same port, with the
        same key (the browser's cookie still opens it). True when it serves again.

        A port left free for a moment can be taken meanwhile (a client polling it may even get
        it as its own ephemeral port), so a taken port is tried again for a while."""
        cmd, old = self._cmd, self._mount
        if cmd is None or old is None or self._stop_requested.is_set():
            return False
        self._log.note(
            f"=== the server host exited ({old.poll()}); serving again on {cmd.base_url}"
        )
        self._set_state(State.STARTING)
        deadline = time.monotonic() + SERVE_AGAIN_SECONDS
        while True:
            hosted, failure = self._mount_in_host(cmd)
            if self._stop_requested.is_set():
                return False
            if hosted and failure is None and self._mount is not old:
                access_key.started(
                    self.paths, self.project, cmd.base_url, self.pid, self.access_key
                )
                with self._lock:
                    self.url = cmd.base_url
                    self._set_state(State.RUNNING)
                return True
            if (
                failure is None
                or failure.cause is not Cause.PORT_TAKEN
                or time.monotonic() > deadline
            ):
                self._log.note(f"=== could not serve again: {failure}")
                return False
            time.sleep(0.5)

    def _wait_ready(
        self, cmd: commands.ServerCommand, proc: subprocess.Popen[bytes] | Mount
    ) -> Failure | None:
        started = self.started_at or time.monotonic()
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self._stop_requested.is_set():
                return Failure(Cause.STOPPED, "the server was stopped while starting.")
            code = proc.poll()
            if code is not None:
                self._finish_reader()
                return classify(code, self.log_tail(60))
            if rest.is_healthy(cmd.base_url, timeout=1.0):
                self._log.note(
                    f"=== ready at {cmd.base_url} after {time.monotonic() - started:.1f} s"
                )
                return None
            if time.monotonic() > deadline:
                self._kill_tree()
                return Failure(
                    Cause.TIMEOUT,
                    f"/health did not answer OK within {self.ready_timeout:.0f} s.",
                    self.log_tail(60),
                )
            time.sleep(0.1)

    # -- plumbing --------------------------------------------------------------------------

    def _work_dir(self) -> str:
        """A local working directory: never a UNC path, which cmd.exe and friends reject."""
        work = self.paths.data_dir / "run"
        work.mkdir(parents=True, exist_ok=True)
        return str(work)

    def _read_output(self, stream: IO[bytes] | None) -> None:
        if stream is None:
            return
        for raw in iter(stream.readline, b""):
            self._take_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
        with contextlib.suppress(OSError):
            stream.close()

    def _take_line(self, line: str) -> None:
        if ('"GET ' in line or '"POST ' in line) and "/health" not in line:
            self.last_activity = time.monotonic()  # a person (or client) used it
        self._log.record(line)

    def _finish_reader(self) -> None:
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(5)

    def _kill_tree(self) -> None:
        mount = self._mount
        if mount is not None and mount.poll() is None:
            mount.unmount()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            process_tree.kill(proc.pid, process_tree.descendants(proc.pid))
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(3)
        self._finish_reader()

    def _set_state(self, state: State) -> None:
        changed = state is not self.state
        self.state = state
        if changed and self.on_change is not None:
            try:
                self.on_change(self)
            except Exception:
                log.exception("state listener failed")
