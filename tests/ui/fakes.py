"""A stand-in for MlflowServer that starts in milliseconds but owns a real process.

The process (a sleeping Python) makes the "nothing left behind" checks real: the tests look the
pid up with psutil after a stop, exactly as they would for an MLflow server.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.checks.failures import Cause, Failure, ServerFailed
from launcher.server.state import State

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


class FakeServer:
    _next_port = 41000

    def __init__(
        self,
        project: Project,
        paths: AppPaths,
        *,
        upgrade_schema: bool = False,
        on_change: Callable[[FakeServer], None] | None = None,
        delay: float = 0.05,
        failure: Failure | None = None,
        remote: bool = False,
    ) -> None:
        self.project = project
        self.paths = paths
        self.upgrade_schema = upgrade_schema
        self.on_change = on_change
        self.delay = delay
        self.planned_failure = failure
        self.remote = remote
        """A remote tracking server: checked, never started, so no process."""
        self.state = State.STOPPED
        self.url: str | None = None
        self.port: int | None = None
        self.failure: Failure | None = None
        self.log_path: Path = paths.server_log(project.slug)
        self.last_activity = time.monotonic()
        self.started_at: float | None = None
        self.pids: list[int] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def log_tail(self, lines: int = 30) -> list[str]:
        return []

    def start(self) -> str:
        self._stop.clear()
        self.failure = None
        self.started_at = time.monotonic()
        self._set(State.STARTING)
        self._log(f"starting {self.project.name}")
        if self.planned_failure is not None:
            self.failure = self.planned_failure
            self._log(f"failed: {self.planned_failure}")
            self._set(State.FAILED)
            raise ServerFailed(self.planned_failure)
        if not self.remote:
            self._proc = subprocess.Popen(SLEEPER)
            self.pids.append(self._proc.pid)
        if self._stop.wait(self.delay):
            self._kill()
            self._set(State.STOPPED)
            raise ServerFailed(Failure(Cause.STOPPED, "stopped while starting"))
        FakeServer._next_port += 1
        self.port = FakeServer._next_port
        self.url = f"http://127.0.0.1:{self.port}/"
        self.last_activity = time.monotonic()
        self._log(f"ready at {self.url}")
        self._set(State.RUNNING)
        return self.url

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._kill()
        self.url = None
        self._set(State.STOPPED)

    def wait(self) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        code = proc.wait()
        if self.state is State.RUNNING and not self._stop.is_set():
            self.failure = Failure(Cause.UNKNOWN, f"the server exited with code {code}")
            self._set(State.FAILED)
        return code

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)

    def _set(self, state: State) -> None:
        changed = state is not self.state
        self.state = state
        if changed and self.on_change is not None:
            self.on_change(self)

    def _log(self, line: str) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class FakeFactory:
    """Makes FakeServers and remembers them; per-project delays and failures."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.delays: dict[str, float] = {}
        self.failures: dict[str, Failure] = {}
        self.remote: set[str] = set()
        self.servers: list[FakeServer] = []

    def __call__(self, project: Project, paths: AppPaths, **kwargs: object) -> FakeServer:
        server = FakeServer(
            project, paths,
            delay=self.delays.get(project.name, self.delay),
            failure=self.failures.get(project.name),
            remote=project.name in self.remote,
            **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
        self.servers.append(server)
        return server

    def of(self, name: str) -> list[FakeServer]:
        return [s for s in self.servers if s.project.name == name]

    def all_pids(self) -> list[int]:
        return [pid for s in self.servers for pid in s.pids]


def alive(pids: list[int]) -> list[int]:
    """The pids that still run (zombies count as gone: they hold no resources but a slot)."""
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out
