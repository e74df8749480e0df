"""A host process, seen from the launcher: its start, its mounted projects and their output.

One host (``child/host.py`` is what runs in it) serves every project of one Python environment
and set of import-time settings, each on its own port: :meth:`Host.mount` hands a project's
command over and waits until its port listens; :meth:`Mount.unmount` closes it again. The
host's output is split by project (``LAUNCHER-LINE:NAME``) into each project's log.

Lifetime: a host is started like any server (its own session, stdin a pipe only the launcher
holds, the Windows Job Object through :func:`spawn.spawn`), so a killed launcher takes it
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
from launcher.server import spawn
from launcher.server.child.protocol import HOST_MARK, LINE_MARK
from launcher.server.child.routing import comparable
from launcher.server.python import environment
from launcher.server.python import server_command as commands

log = logging.getLogger(__name__)

HOST_ADDRESS = "127.0.0.1"
"""Hosts serve loopback only; a project on another address gets a process of its own."""
MOUNT_TIMEOUT = 120.0
"""A mount opens the project's stores: a slow share may take a while (as a fresh start)."""
LineSink = Callable[[str], None]


class HostRefused(Exception):
    """The host did not mount a project: ``kind`` as a server's error mark names it."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class HostCommand(commands.ProcessCommand):
    """How a host is started, and the environment it was started with (checked per mount)."""

    interpreter: tuple[str, ...]
    """The serve command's argv up to the subcommand: the same Python (or exe) and main.py."""

    @property
    def key(self) -> tuple[object, ...]:
        """Projects whose command has the same key can share this host."""
        return (self.interpreter, self.cwd, tuple(sorted(self.env.items())))


def interpreter_of(cmd: commands.ServerCommand) -> tuple[str, ...] | None:
    """``cmd.argv`` up to its ``serve`` subcommand; None for a command a host cannot take."""
    if not cmd.lean or "serve" not in cmd.argv:
        return None
    return tuple(cmd.argv[: cmd.argv.index("serve")])


def host_command_for(cmd: commands.ServerCommand) -> HostCommand | None:
    """The host that serves ``cmd`` as a process of its own would: same Python, same settings.

    None for a project with MLflow's workspaces on: ``workspace_helpers._workspace_store`` is
    one per process and not routed (child/routing.py), so such a project gets its own."""
    interpreter = interpreter_of(cmd)
    if interpreter is None or cmd.host != HOST_ADDRESS:
        return None
    if cmd.env.get("MLFLOW_ENABLE_WORKSPACES", "").strip().lower() in ("true", "1", "yes"):
        return None
    return HostCommand(
        argv=[*interpreter, "host", "--host", HOST_ADDRESS],
        env=comparable(cmd.env),
        cwd=cmd.cwd,
        host=HOST_ADDRESS,
        interpreter=interpreter,
    )


def warm_host_command(paths: AppPaths, base_env: dict[str, str]) -> HostCommand | None:
    """The host kept warm ahead of any click: the launcher's own environment, with what a plain
    project's server would get. None when that environment cannot serve lean."""
    env = environment.resolve("")
    if not env.lean or not env.mlflow:
        return None
    template = Project(name="host", store=str(paths.default_store))
    cmd = commands.build(
        template,
        template.parsed_store(),
        env,
        port=0,
        artifacts_dir=paths.artifacts_dir(template.slug),
        work_dir=paths.data_dir / "run",
        base_env=base_env,
    )
    return host_command_for(cmd)


@dataclass(eq=False)
class Mount:
    """One project served by a host, on its own port. Quacks like a process for its server:
    :meth:`poll` and :meth:`wait` say when it stopped serving, :attr:`pid` is the host's."""

    host: Host
    name: str
    sink: LineSink
    port: int | None = None
    ended: threading.Event = field(default_factory=threading.Event)
    host_gone: bool = False
    """It ended because the host process exited (not by :meth:`unmount`)."""
    answer: dict[str, object] | None = None
    _answered: threading.Event = field(default_factory=threading.Event)

    @property
    def pid(self) -> int:
        return self.host.pid

    def poll(self) -> int | None:
        if not self.ended.is_set():
            return None
        return (self.host.proc.poll() or 1) if self.host_gone else 0

    def wait(self, timeout: float | None = None) -> int:
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"mount {self.name}", timeout or 0)
        code = self.poll()
        return 0 if code is None else code

    def unmount(self, timeout: float = 10.0) -> None:
        """Close this project's port and forget its stores; the host serves on."""
        if self.ended.is_set():
            return
        self.host.request({"op": "unmount", "id": self.name})
        if not self.ended.wait(timeout):
            log.warning("host %s did not unmount %s in %.0f s", self.host.pid, self.name, timeout)


@dataclass(eq=False)
class Host:
    """One host process: its mounts, and its output split into their logs."""

    command: HostCommand
    proc: subprocess.Popen[bytes]
    warm: bool = False
    import_priority: int | None = None
    """What the system said of the import thread's priority once lowered (Windows: -1 is below
    normal; Linux: its nice value); None when it was not lowered or could not be read."""
    started_at: float = field(default_factory=time.monotonic)
    mounts: dict[str, Mount] = field(default_factory=dict)
    on_warm: Callable[[Host], None] | None = None
    on_exit: Callable[[Host, list[Mount]], None] | None = None
    """Called (on the reader thread) when the process ended, with the mounts it still served."""
    on_idle: Callable[[Host], None] | None = None
    """Called (on the reader thread) when its last mount was unmounted."""
    closing: bool = False
    _own_lines: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=200)
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _warm_event: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fits(self, cmd: commands.ServerCommand) -> bool:
        """Would this host serve ``cmd`` exactly as a process of its own would?"""
        wanted = host_command_for(cmd)
        return self.alive() and wanted is not None and wanted.key == self.command.key

    def lines(self) -> list[str]:
        """The host's own last lines (not any project's): why it failed, if it did."""
        with self._lock:
            return list(self._own_lines)

    def mount(self, cmd: commands.ServerCommand, name: str, sink: LineSink) -> Mount:
        """Serve ``cmd``'s project on ``cmd.port`` (0: any free one); blocks until it listens.

        Raises :class:`HostRefused` with the host's reason, or ``host-gone``."""
        mount = Mount(self, name, sink)
        with self._lock:
            if name in self.mounts and not self.mounts[name].ended.is_set():
                raise HostRefused("host", f"{name} is mounted already")
            self.mounts[name] = mount
        self.request(
            {
                "op": "mount",
                "id": name,
                "port": cmd.port,
                "env": cmd.env,
                "started_with": self.command.env,
            }
        )
        if not mount._answered.wait(MOUNT_TIMEOUT):
            mount.unmount()
            raise HostRefused("timeout", f"the host did not mount it within {MOUNT_TIMEOUT:.0f} s")
        answer = mount.answer or {}
        if answer.get("event") != "mounted":
            with self._lock:
                self.mounts.pop(name, None)
            mount.ended.set()
            raise HostRefused(str(answer.get("kind", "host-gone")), str(answer.get("message", "")))
        mount.port = int(str(answer["port"]))
        return mount

    def request(self, payload: dict[str, object]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(payload) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except OSError as exc:
            log.info("host %s is gone: %s", self.pid, exc)

    def wait_warm(self, timeout: float) -> bool:
        return self._warm_event.wait(timeout) and self.warm

    def stop(self) -> None:
        """End the host and every project it serves: closing its stdin is enough."""
        self.closing = True
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(8)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(3)

    # -- the reader thread -------------------------------------------------------------------

    def _read(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith(LINE_MARK):
                name, _, text = line[len(LINE_MARK) :].partition("\t")
                with self._lock:
                    mount = self.mounts.get(name)
                if mount is not None:
                    mount.sink(text)
                    continue
            if line.startswith(HOST_MARK):
                self._answer(line[len(HOST_MARK) :])
                continue
            with self._lock:
                self._own_lines.append(line)
            log.debug("host %s: %s", self.pid, line)
        with contextlib.suppress(OSError):
            stream.close()
        self.proc.wait()
        self._warm_event.set()
        with self._lock:
            left = [m for m in self.mounts.values() if not m.ended.is_set()]
            self.mounts.clear()
        for mount in left:
            mount.host_gone = True
            mount.answer = mount.answer or {"event": "failed", "kind": "host-gone",
                                            "message": self._gone_message()}  # fmt: skip
            mount._answered.set()
            mount.ended.set()
        if self.on_exit is not None:
            self.on_exit(self, [m for m in left if m.port is not None])

    def _gone_message(self) -> str:
        tail = [line for line in self.lines() if line.strip()][-1:]
        return f"the server host exited ({self.proc.returncode})" + (f": {tail[0]}" if tail else "")

    def _answer(self, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError:
            return
        event = payload.get("event")
        if event == "warm":
            priority = payload.get("import_priority")
            self.import_priority = priority if isinstance(priority, int) else None
            self.warm = True
            log.info(
                "host %s warm after %.1f s (import thread priority %s)",
                self.pid,
                time.monotonic() - self.started_at,
                self.import_priority,
            )
            self._warm_event.set()
            if self.on_warm is not None:
                self.on_warm(self)
            return
        with self._lock:
            mount = self.mounts.get(str(payload.get("id")))
            if event == "unmounted":
                self.mounts.pop(str(payload.get("id")), None)
        if mount is None:
            return
        if event == "unmounted":
            mount.ended.set()
            if not self.mounts and self.on_idle is not None:
                self.on_idle(self)
        else:
            mount.answer = payload
            mount._answered.set()


def start_host(
    command: HostCommand,
    *,
    low_priority: bool = True,
    on_warm: Callable[[Host], None] | None = None,
    on_exit: Callable[[Host, list[Mount]], None] | None = None,
    on_idle: Callable[[Host], None] | None = None,
) -> Host:
    """Start a host process, tied to the launcher's lifetime like every server.

    ``low_priority``: import MLflow at low priority (the warm host of an idle tray); False when
    a click waits for it."""
    Path(command.cwd).mkdir(parents=True, exist_ok=True)
    argv = [*command.argv, "--priority", "low" if low_priority else "normal"]
    proc = spawn.spawn(argv, cwd=command.cwd, env=command.env)
    host = Host(command, proc, on_warm=on_warm, on_exit=on_exit, on_idle=on_idle)
    assert proc.stdout is not None
    host.reader = threading.Thread(
        target=host._read, args=(proc.stdout,), name=f"host-{proc.pid}", daemon=True
    )
    host.reader.start()
    return host
