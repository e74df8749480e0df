"""A warm spare: one server process kept ready, MLflow imported, no store opened.

A click then costs opening the stores and the first /health instead of Python start-up plus
about 6 s of imports. This module holds one spare process: its command, its output until a
project takes it, and the hand-over (:meth:`Spare.fits`, :meth:`Spare.assign`);
``child/spare.py`` is what runs in it. How many spares are kept, which one a click gets and
when the next ones start is :mod:`launcher.server.warm.spare_pool`'s job.

What takes today's path instead: another Python environment, the fallback server, a fixed port
or another host, and any difference in a setting MLflow reads at import (a static prefix,
allowed hosts, ...): every variable but :data:`launcher.server.child.spare.LATE_VARS` must be equal.

Lifetime: a spare is started like any server (its own session, stdin a pipe only the launcher
holds, the Windows Job Object through :func:`lifeline.adopt`), so a killed launcher takes it
along. Plain Python, no Qt.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import lifeline
from launcher.server.child.spare import SPARE_MARK, comparable
from launcher.server.python import environment
from launcher.server.python import server_command as commands

log = logging.getLogger(__name__)

SPARE_HOST = "127.0.0.1"
LineSink = Callable[[str], None]


@dataclass(frozen=True)
class SpareCommand(commands.ProcessCommand):
    """How a spare is started, and the environment it was started with (checked at hand-over)."""

    interpreter: tuple[str, ...]
    """The serve command's argv up to the subcommand: the same Python (or exe) and child/main.py."""


def spare_command(paths: AppPaths, base_env: dict[str, str]) -> SpareCommand | None:
    """The spare's command, built from what a plain project's fresh server would get.

    None when the launcher's own environment cannot serve lean (no spare then).
    """
    env = environment.resolve("")
    if not env.lean or not env.mlflow:
        return None
    template = Project(name="spare", store=str(paths.default_store))
    work = paths.data_dir / "run"
    cmd = commands.build(
        template,
        template.parsed_store(),
        env,
        port=0,
        artifacts_dir=paths.artifacts_dir(template.slug),
        work_dir=work,
        base_env=base_env,
    )
    serve_argv = env.child_command("serve")
    return SpareCommand(
        argv=env.child_command("spare", "--host", SPARE_HOST),
        env=comparable(cmd.env),
        cwd=str(work),
        host=SPARE_HOST,
        interpreter=tuple(serve_argv[:-1]),
    )


@dataclass(eq=False)
class Spare:
    """One spare process. Its output is kept until a project takes it, then goes to that log."""

    command: SpareCommand
    proc: subprocess.Popen[bytes]
    port: int | None = None
    warm: bool = False
    import_priority: int | None = None
    """What the system said of the import thread's priority once lowered (Windows: -1 is below
    normal; Linux: its nice value); None when it was not lowered or could not be read."""
    started_at: float = field(default_factory=time.monotonic)
    _lines: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200))
    _sink: LineSink | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _has_port: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None
    on_warm: Callable[[Spare], None] | None = None
    """Called (on the reader thread) when MLflow is imported: the pool starts the next one."""

    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def fits(self, cmd: commands.ServerCommand) -> bool:
        """Would this spare serve ``cmd`` exactly as a fresh process started with it would?"""
        return (
            cmd.lean
            and self.alive()
            and self.port is not None
            and cmd.host == self.command.host
            and cmd.cwd == self.command.cwd
            and tuple(cmd.argv[: len(self.command.interpreter)]) == self.command.interpreter
            and comparable(cmd.env) == self.command.env
        )

    def assign(self, cmd: commands.ServerCommand, sink: LineSink) -> subprocess.Popen[bytes] | None:
        """Hand a project's settings over; from now on the spare is that project's server.

        None if the spare died meanwhile (it is stopped; the caller starts afresh)."""
        with self._lock:
            for line in self._lines:
                sink(line)
            self._lines.clear()
            self._sink = sink
        # started_with: what its own start changed (a frozen bundle's PATH) is told apart.
        settings = {
            "env": cmd.env,
            "started_with": self.command.env,
            "host": cmd.host,
            "port": self.port,
        }
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(settings) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except OSError as exc:
            log.info("the warm spare %s is gone: %s", self.pid, exc)
            self.stop()
            return None
        return self.proc

    def wait_for_port(self, timeout: float) -> int | None:
        self._has_port.wait(timeout)
        return self.port

    def stop(self) -> None:
        """End an unused spare: closing its stdin is enough; a kill if it lingers."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(3)

    def _read(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith(SPARE_MARK) and self._sink is None:
                self._note(line[len(SPARE_MARK) :])
                continue
            with self._lock:
                sink = self._sink
                if sink is None:
                    self._lines.append(line)
            if sink is not None:
                sink(line)
        self._has_port.set()
        with contextlib.suppress(OSError):
            stream.close()

    def _note(self, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError:
            return
        if "port" in payload:
            self.port = int(payload["port"])
            self._has_port.set()
        if payload.get("warm"):
            priority = payload.get("import_priority")
            self.import_priority = priority if isinstance(priority, int) else None
            self.warm = True
            log.info(
                "spare %s warm after %.1f s (import thread priority %s)",
                self.pid,
                time.monotonic() - self.started_at,
                self.import_priority,
            )
            if self.on_warm is not None:
                self.on_warm(self)


def start_spare(
    command: SpareCommand,
    *,
    low_priority: bool = True,
    on_warm: Callable[[Spare], None] | None = None,
) -> Spare:
    """Start a spare process, tied to the launcher's lifetime like every server.

    ``low_priority``: import MLflow at low priority (an idle tray's spare); False when a click
    has just used one and the next may come any moment."""
    Path(command.cwd).mkdir(parents=True, exist_ok=True)
    argv = [*command.argv, "--priority", "low" if low_priority else "normal"]
    proc = lifeline.spawn(argv, cwd=command.cwd, env=command.env)
    spare = Spare(command, proc, on_warm=on_warm)
    assert proc.stdout is not None
    spare.reader = threading.Thread(
        target=spare._read, args=(proc.stdout,), name=f"spare-{proc.pid}", daemon=True
    )
    spare.reader.start()
    return spare
