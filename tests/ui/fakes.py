"""A MlflowServer that starts in milliseconds but owns a real process.

The process (a sleeping Python) makes the "nothing left behind" checks real: the tests look the
pid up with psutil after a stop, exactly as they would for an MLflow server.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from typing import Any

import psutil

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.checks.failures import Cause, Failure, ServerFailed
from launcher.server.process import MlflowServer
from launcher.server.state import State

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


class FakeServer(MlflowServer):
    """The real MlflowServer with its start replaced: no MLflow, a sleeping process instead.

    Built on the real class, so every field and method the manager and the views use is the
    real one; only what touches MLflow (start, stop, wait) is stood in for.
    """

    _next_port = 41000

    def __init__(
        self,
        project: Project,
        paths: AppPaths,
        *,
        delay: float = 0.05,
        failure: Failure | None = None,
        remote: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(project, paths, **kwargs)
        self.delay = delay
        self.planned_failure = failure
        self.remote = remote
        """A remote tracking server: checked, never started, so no process."""
        self.pids: list[int] = []
        self._stopping = threading.Event()

    def start(self) -> str:
        self._stopping.clear()
        self.failure = None
        self.started_at = time.monotonic()
        self._set_state(State.STARTING)
        self._log.note(f"starting {self.project.name}")
        if self.planned_failure is not None:
            self.failure = self.planned_failure
            self._log.note(f"failed: {self.planned_failure}")
            self._set_state(State.FAILED)
            raise ServerFailed(self.planned_failure)
        if not self.remote:
            self._proc = subprocess.Popen(SLEEPER)
            self.pids.append(self._proc.pid)
        if self._stopping.wait(self.delay):
            self._kill()
            self._set_state(State.STOPPED)
            raise ServerFailed(Failure(Cause.STOPPED, "stopped while starting"))
        FakeServer._next_port += 1
        self.port = FakeServer._next_port
        self.url = f"http://127.0.0.1:{self.port}/"
        self.last_activity = time.monotonic()
        self._log.note(f"ready at {self.url}")
        self._set_state(State.RUNNING)
        return self.url

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._kill()
        self.url = None
        self._set_state(State.STOPPED)

    def wait(self) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        code = proc.wait()
        if self.state is State.RUNNING and not self._stopping.is_set():
            self.failure = Failure(Cause.UNKNOWN, f"the server exited with code {code}")
            self._set_state(State.FAILED)
        return code

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


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
