"""The warm spare: one server process kept ready, MLflow imported, no store opened.

A click then costs opening the stores and the first /health instead of Python start-up plus
about 6 s of imports. :class:`SparePool` keeps at most one spare (``child/spare.py`` is what
runs in it), hands it to the first project it can serve exactly as a fresh server would
(:meth:`Spare.fits`), and starts the next one once that project is served.

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
import os
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
from launcher.server.python import environment, telemetry
from launcher.server.python import server_command as commands

log = logging.getLogger(__name__)

SPARE_HOST = "127.0.0.1"
UNUSED_SPARE_SECONDS = 180.0
"""With 'keep warm' off, a spare the menu started and nobody used is stopped after this."""
PORT_WAIT_SECONDS = 10.0
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
    started_at: float = field(default_factory=time.monotonic)
    _lines: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200))
    _sink: LineSink | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _has_port: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None

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

    def assign(self, cmd: commands.ServerCommand, sink: LineSink) -> subprocess.Popen[bytes]:
        """Hand a project's settings over; from now on the spare is that project's server."""
        with self._lock:
            for line in self._lines:
                sink(line)
            self._lines.clear()
            self._sink = sink
        settings = {"env": cmd.env, "host": cmd.host, "port": self.port}
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(settings) + "\n").encode("utf-8"))
        self.proc.stdin.flush()
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
            self.warm = True
            log.info("spare %s warm after %.1f s", self.pid, time.monotonic() - self.started_at)


def start_spare(command: SpareCommand) -> Spare:
    """Start a spare process, tied to the launcher's lifetime like every server."""
    Path(command.cwd).mkdir(parents=True, exist_ok=True)
    proc = lifeline.spawn(command.argv, cwd=command.cwd, env=command.env)
    spare = Spare(command, proc)
    assert proc.stdout is not None
    spare.reader = threading.Thread(
        target=spare._read, args=(proc.stdout,), name=f"spare-{proc.pid}", daemon=True
    )
    spare.reader.start()
    return spare


class SparePool:
    """At most one spare; thread-safe (servers claim from worker threads)."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        keep_warm: bool = True,
        base_env: dict[str, str] | None = None,
        unused_seconds: float = UNUSED_SPARE_SECONDS,
    ) -> None:
        self.paths = paths
        self.keep_warm = keep_warm
        self.unused_seconds = unused_seconds
        self._base_env = None if base_env is None else dict(base_env)
        self._spare: Spare | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._unused_timer: threading.Timer | None = None

    # -- queries -------------------------------------------------------------------------------

    @property
    def spare(self) -> Spare | None:
        spare = self._spare
        return spare if spare is not None and spare.alive() else None

    # -- actions -------------------------------------------------------------------------------

    def set_keep_warm(self, keep_warm: bool) -> None:
        """The setting changed: start a spare now, or stop the idle one."""
        self.keep_warm = keep_warm
        if keep_warm:
            self.ensure()
        else:
            self._discard()

    def ensure(self) -> Spare | None:
        """Start a spare unless one is alive (or the pool is closed, or none can be had)."""
        with self._lock:
            if self._closed:
                return None
            if self._spare is not None and self._spare.alive():
                return self._spare
            command = self._current_command()
            if command is None:
                return None
            try:
                self._spare = start_spare(command)
            except OSError as exc:
                log.warning("no warm spare: %s", exc)
                self._spare = None
                return None
            log.info("started a warm spare (pid %s)", self._spare.pid)
            spare = self._spare
        if not self.keep_warm:
            self._stop_unused_later(spare)
        return spare

    def warm_up(self) -> None:
        """A hint that a click may come (the menu opened): have a spare, even with 'keep' off."""
        self.ensure()

    def claim(self, cmd: commands.ServerCommand) -> Spare | None:
        """Take the spare for ``cmd`` if it fits; the caller then owns its process."""
        with self._lock:
            spare = self._spare
            if spare is None or spare.wait_for_port(PORT_WAIT_SECONDS) is None:
                return None
            if not spare.fits(cmd):
                log.info("the warm spare does not fit %s: fresh start", cmd.base_url)
                current = self._current_command()
                if current is not None and current.env == spare.command.env:
                    return None
                # The launcher's own environment changed since the spare started: that spare
                # fits nobody any more; the next one takes the environment of now.
                self._spare = None
                drifted = spare
            else:
                self._spare = None
                return spare
        drifted.stop()
        self.replenish()
        return None

    def replenish(self) -> None:
        """A spare was used: the next one, in the background, when keeping one warm."""
        if self.keep_warm:
            threading.Thread(target=self.ensure, name="spare-start", daemon=True).start()

    def close(self) -> None:
        """Quit: no spare any more, and none started later."""
        with self._lock:
            self._closed = True
        self._discard()

    # -- plumbing ------------------------------------------------------------------------------

    def _current_command(self) -> SpareCommand | None:
        base = dict(os.environ) if self._base_env is None else self._base_env
        try:
            # As a fresh server's: MLflow reads its telemetry switches at import.
            return spare_command(self.paths, telemetry.server_env(base, self.paths))
        except Exception:
            log.exception("no warm spare: its command could not be built")
            return None

    def _discard(self) -> None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.stop()

    def _stop_unused_later(self, spare: Spare) -> None:
        def check() -> None:
            with self._lock:
                if self._spare is not spare or self.keep_warm:
                    return
                self._spare = None
            log.info("stopping the unused spare %s", spare.pid)
            spare.stop()

        timer = threading.Timer(self.unused_seconds, check)
        timer.daemon = True
        timer.start()
        self._unused_timer = timer
