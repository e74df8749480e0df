"""The hosts the tray runs: one per Python environment, the launcher's own kept warm.

A click mounts its project into the host of its Python environment and import-time settings
(``host.py``), which the tray keeps warm ahead of the first click for its own environment, and
starts on the first click for any other. The next click mounts into the same host: no second
process, no second copy of MLflow's server in memory. A host that nothing is mounted in stays
warm while "Keep a server warm" is on (the launcher's own), and otherwise is stopped after
:data:`UNUSED_HOST_SECONDS`.

A project gets a process of its own only where a host cannot serve it as that process would:
the ``mlflow server`` fallback, an address other than loopback, or a setting the host's MLflow
read at import differing (the host refuses it: ``host-mismatch``).

Thread-safe: servers mount from worker threads, hosts report from their reader threads.
Plain Python, no Qt.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from launcher.model.paths import AppPaths
from launcher.server.python import server_command as commands
from launcher.server.python import telemetry
from launcher.server.warm.host import (
    Host,
    HostCommand,
    HostRefused,
    LineSink,
    Mount,
    host_command_for,
    start_host,
    warm_host_command,
)

log = logging.getLogger(__name__)

UNUSED_HOST_SECONDS = 180.0
"""A host with nothing mounted that is not kept warm is stopped after this."""
WARM_TIMEOUT = 180.0
"""Longest wait for a host's import at a click (a cold start under load, a slow antivirus)."""

LostCallback = Callable[[list[str]], None]
"""Told the names of the projects a host served when it died (they are being served again)."""


class HostPool:
    """The tray's hosts by what they can serve; thread-safe."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        keep_warm: bool = True,
        base_env: dict[str, str] | None = None,
        unused_seconds: float = UNUSED_HOST_SECONDS,
        on_lost: LostCallback | None = None,
    ) -> None:
        self.paths = paths
        self.keep_warm = keep_warm
        self.unused_seconds = unused_seconds
        self.on_lost = on_lost
        self._base_env = None if base_env is None else dict(base_env)
        self._hosts: list[Host] = []
        self._lock = threading.Lock()
        self._closed = False
        self._timers: dict[int, threading.Timer] = {}

    # -- queries -------------------------------------------------------------------------------

    @property
    def hosts(self) -> list[Host]:
        """The live hosts, oldest first."""
        with self._lock:
            return [h for h in self._hosts if h.alive()]

    def warm_host(self) -> Host | None:
        """The host of the launcher's own environment, if it runs."""
        command = self._warm_command()
        if command is None:
            return None
        return next((h for h in self.hosts if h.command.key == command.key), None)

    # -- actions -------------------------------------------------------------------------------

    def set_keep_warm(self, keep_warm: bool) -> None:
        """The setting changed: start the warm host now, or let an idle one go."""
        self.keep_warm = keep_warm
        if keep_warm:
            self.ensure()
        else:
            for host in self.hosts:
                self._retire_when_idle(host)

    def ensure(self) -> Host | None:
        """Have the launcher's own host running (it imports MLflow at low priority)."""
        command = self._warm_command()
        if command is None:
            return None
        host = self._host_for(command, low_priority=True)
        if host is not None and not self.keep_warm:
            self._retire_when_idle(host)
        return host

    def warm_up(self) -> None:
        """A hint that a click may come (the menu opened): have a warm host, even with 'keep'
        off (then it goes again after a while unused)."""
        self.ensure()

    def mount(self, cmd: commands.ServerCommand, name: str, sink: LineSink) -> Mount | None:
        """Serve ``cmd``'s project from a host; blocks until it listens.

        None when no host can serve it as a process of its own would (the caller starts one):
        the fallback server, another address, settings read at import that differ, or a host
        that cannot start. Raises :class:`HostRefused` when the host tried and failed (a
        taken port, a store that cannot be opened): a process of its own would fail alike."""
        command = host_command_for(cmd)
        if command is None:
            return None
        host = self._host_for(command, low_priority=False)
        if host is None:
            return None
        if not host.wait_warm(WARM_TIMEOUT):
            log.warning("host %s did not get warm: %s", host.pid, host.lines()[-3:])
            return None
        self._cancel_retire(host)
        try:
            return host.mount(cmd, name, sink)
        except HostRefused as exc:
            if exc.kind in ("host-mismatch", "host-gone"):
                log.info("host %s cannot serve %s (%s): a process of its own", host.pid, name, exc)
                return None
            raise
        finally:
            if not host.mounts:
                self._retire_when_idle(host)

    def close(self) -> None:
        """Quit: no host any more, and none started later."""
        with self._lock:
            self._closed = True
            hosts, self._hosts = self._hosts, []
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()
        for host in hosts:
            host.stop()

    # -- plumbing ------------------------------------------------------------------------------

    def _host_for(self, command: HostCommand, *, low_priority: bool) -> Host | None:
        with self._lock:
            if self._closed:
                return None
            self._hosts = [h for h in self._hosts if h.alive()]
            found = next((h for h in self._hosts if h.command.key == command.key), None)
            if found is not None:
                return found
            try:
                host = start_host(
                    command,
                    low_priority=low_priority,
                    on_exit=self._exited,
                    on_idle=self._retire_when_idle,
                )
            except OSError as exc:
                log.warning("no host: %s", exc)
                return None
            self._hosts.append(host)
        log.info(
            "started a host (pid %s%s)", host.pid, ", warm for a click" if low_priority else ""
        )
        return host

    def _exited(self, host: Host, served: list[Mount]) -> None:
        with self._lock:
            if host in self._hosts:
                self._hosts.remove(host)
        if host.closing or not served:
            return
        names = sorted(m.name for m in served)
        log.warning("host %s exited (%s) while serving %s", host.pid, host.proc.returncode, names)
        if self.on_lost is not None:
            try:
                self.on_lost(names)
            except Exception:
                log.exception("the lost-host listener failed")

    def _retire_when_idle(self, host: Host) -> None:
        """Stop ``host`` after a while with nothing mounted, unless it is kept warm."""
        if self.keep_warm and self._is_warm_host(host):
            return
        self._cancel_retire(host)

        def check() -> None:
            with self._lock:
                self._timers.pop(host.pid, None)
                if host.mounts or host not in self._hosts:
                    return
                if self.keep_warm and self._is_warm_host(host):
                    return
                self._hosts.remove(host)
            log.info("stopping the unused host %s", host.pid)
            host.stop()

        timer = threading.Timer(self.unused_seconds, check)
        timer.daemon = True
        with self._lock:
            self._timers[host.pid] = timer
        timer.start()

    def _cancel_retire(self, host: Host) -> None:
        with self._lock:
            timer = self._timers.pop(host.pid, None)
        if timer is not None:
            timer.cancel()

    def _is_warm_host(self, host: Host) -> bool:
        command = self._warm_command()
        return command is not None and command.key == host.command.key

    def _warm_command(self) -> HostCommand | None:
        base = dict(os.environ) if self._base_env is None else self._base_env
        try:
            # As a fresh server's: MLflow reads its telemetry switches at import.
            return warm_host_command(self.paths, telemetry.server_env(base, self.paths))
        except Exception:
            log.exception("no warm host: its command could not be built")
            return None
