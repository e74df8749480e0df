"""The warm spares the tray keeps: how many, which one a click gets, when the next ones start.

One spare (``spare.py``) makes the first click fast, but projects opened back to back found the
next spare still importing (about 20 s each). So the pool keeps up to ``count`` warm spares
(the ``warm_spares`` setting), each one more only while memory allows (:func:`memory_allows`):
N clicks in a row are all served by spares.

- Spares start one at a time: the next one when the previous is warm, so an idle tray's imports
  never compete with each other (nor, at low priority, with the user's work).
- A click takes a warm spare first, else the one furthest into its import.
- Refilling after a click waits until the projects being handed over are served (a burst of
  clicks keeps both cores for them), then imports at normal priority: more clicks may follow.

Thread-safe: servers claim from worker threads, the spares report from their reader threads.
Plain Python, no Qt.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time

from launcher.model.paths import AppPaths
from launcher.server.python import server_command as commands
from launcher.server.python import telemetry
from launcher.server.warm.spare import Spare, SpareCommand, spare_command, start_spare

log = logging.getLogger(__name__)

UNUSED_SPARE_SECONDS = 180.0
"""With 'keep warm' off, a spare the menu started and nobody used is stopped after this."""
PORT_WAIT_SECONDS = 10.0
SPARE_MIB = 300
"""About what one warm spare holds (MLflow's server imported: 245 MB measured, plus margin)."""
FREE_FLOOR_MIB = 1024
FREE_FLOOR_SHARE = 0.15
"""An extra spare starts only if, after it, this much memory stays available (the larger of
the two): spares are a convenience, never a reason for the machine to swap."""
HANDOVER_GRACE_SECONDS = 60.0
"""A hand-over not reported done after this no longer holds the refill back."""


def memory_allows(extra_mib: int = SPARE_MIB) -> bool:
    """Is there room for one more spare (``extra_mib``) with a floor left for everything else?"""
    import psutil  # loaded on first use: the tray's idle import set stays small

    memory = psutil.virtual_memory()
    floor = max(FREE_FLOOR_MIB * 2**20, FREE_FLOOR_SHARE * memory.total)
    return bool(memory.available - extra_mib * 2**20 >= floor)


class SparePool:
    """Up to ``count`` warm spares (always at least one may run: the first ignores the memory
    check, as the single spare always did); thread-safe."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        keep_warm: bool = True,
        count: int = 1,
        base_env: dict[str, str] | None = None,
        unused_seconds: float = UNUSED_SPARE_SECONDS,
    ) -> None:
        self.paths = paths
        self.keep_warm = keep_warm
        self.count = max(1, count)
        self.unused_seconds = unused_seconds
        self._base_env = None if base_env is None else dict(base_env)
        self._spares: list[Spare] = []
        self._handing_over: dict[int, float] = {}
        """pid -> when claimed: projects being served from a spare right now."""
        self._refilling = False
        """A click used a spare since the pool was last full: the next import at normal priority."""
        self._lock = threading.Lock()
        self._closed = False
        self._unused_timer: threading.Timer | None = None
        self._grace_timer: threading.Timer | None = None

    # -- queries -------------------------------------------------------------------------------

    @property
    def spares(self) -> list[Spare]:
        """The live spares, oldest first."""
        with self._lock:
            return [s for s in self._spares if s.alive()]

    @property
    def spare(self) -> Spare | None:
        """The oldest live spare (the one a click gets unless a younger one is warm already)."""
        alive = self.spares
        return alive[0] if alive else None

    def target(self) -> int:
        """How many spares the pool works towards: ``count`` kept warm, one for a menu hint."""
        return self.count if self.keep_warm else 1

    # -- actions -------------------------------------------------------------------------------

    def set_keep_warm(self, keep_warm: bool) -> None:
        """The setting changed: start spares now, or stop the idle ones."""
        self.keep_warm = keep_warm
        if keep_warm:
            self.ensure()
        else:
            self._discard()

    def set_count(self, count: int) -> None:
        """The ``warm_spares`` setting changed: start more, or stop the youngest extra ones."""
        self.count = max(1, count)
        with self._lock:
            extra = self._spares[self.target() :]
            del self._spares[self.target() :]
        for spare in extra:
            spare.stop()
        self.ensure()

    def ensure(self) -> Spare | None:
        """Start one more spare if the pool is below its target, none is still importing, no
        hand-over is under way and memory allows; returns the oldest live spare."""
        with self._lock:
            if self._closed:
                return None
            self._spares = [s for s in self._spares if s.alive()]
            alive = self._spares
            oldest = alive[0] if alive else None
            if len(alive) >= self.target():
                self._refilling = False
                return oldest
            if any(not s.warm for s in alive) or self._busy_handing_over():
                return oldest  # the next one starts when this one is warm / they are served
            if alive and not memory_allows():
                log.info("no further warm spare: memory is short (%d kept)", len(alive))
                return oldest
            command = self._current_command()
            if command is None:
                return oldest
            urgent = self._refilling
            try:
                spare = start_spare(command, low_priority=not urgent, on_warm=self._warmed)
            except OSError as exc:
                log.warning("no warm spare: %s", exc)
                return oldest
            alive.append(spare)
            log.info(
                "started a warm spare (pid %s, %d of %d%s)",
                spare.pid,
                len(alive),
                self.target(),
                ", normal priority: refilling after a click" if urgent else "",
            )
        if not self.keep_warm:
            self._stop_unused_later(spare)
        return oldest or spare

    def warm_up(self) -> None:
        """A hint that a click may come (the menu opened): have a spare, even with 'keep' off."""
        self.ensure()

    def claim(self, cmd: commands.ServerCommand) -> Spare | None:
        """Take a spare for ``cmd`` if one fits; the caller then owns its process and calls
        :meth:`replenish` with it once the project is served (or failed)."""
        with self._lock:
            alive = sorted(
                (s for s in self._spares if s.alive()), key=lambda s: (not s.warm, s.started_at)
            )
            if not alive:
                return None
            if (
                all(s.port is None for s in alive)
                and alive[0].wait_for_port(PORT_WAIT_SECONDS) is None
            ):
                return None
            spare = next((s for s in alive if s.port is not None and s.fits(cmd)), None)
            if spare is not None:
                self._spares.remove(spare)
                self._handing_over[spare.pid] = time.monotonic()
                self._refilling = True
                return spare
            log.info("no warm spare fits %s: fresh start", cmd.base_url)
            current = self._current_command()
            # Spares started before the launcher's own environment changed fit nobody any
            # more: they go, and the next ones take the environment of now.
            drifted = [s for s in alive if current is None or current.env != s.command.env]
            for stale in drifted:
                self._spares.remove(stale)
        for stale in drifted:
            stale.stop()
        if drifted:
            self._start_next()
        return None

    def take(self, cmd: commands.ServerCommand) -> tuple[commands.ServerCommand, Spare | None]:
        """:meth:`claim`, and ``cmd`` moved to the claimed spare's port (it is bound already)."""
        spare = self.claim(cmd)
        if spare is None or spare.port is None:
            return cmd, spare
        return dataclasses.replace(cmd, port=spare.port), spare

    def replenish(self, used: Spare | None = None) -> None:
        """``used`` serves its project now (or failed to): once no other hand-over is under way,
        the next spares start in the background, when keeping them warm."""
        with self._lock:
            if used is not None:
                self._handing_over.pop(used.pid, None)
        if self.keep_warm:
            self._start_next()

    def close(self) -> None:
        """Quit: no spare any more, and none started later."""
        with self._lock:
            self._closed = True
        self._discard()

    # -- plumbing ------------------------------------------------------------------------------

    def _busy_handing_over(self) -> bool:
        now = time.monotonic()
        for pid, since in list(self._handing_over.items()):
            if now - since > HANDOVER_GRACE_SECONDS:
                del self._handing_over[pid]
        if self._handing_over and self._grace_timer is None:
            # If the last hand-over never reports back, the refill still comes.
            def retry() -> None:
                self._grace_timer = None
                self._start_next()

            self._grace_timer = threading.Timer(HANDOVER_GRACE_SECONDS, retry)
            self._grace_timer.daemon = True
            self._grace_timer.start()
        return bool(self._handing_over)

    def _warmed(self, spare: Spare) -> None:
        """A spare finished importing: the next one may start (one import at a time)."""
        self._start_next()

    def _start_next(self) -> None:
        if not self._closed:
            threading.Thread(target=self.ensure, name="spare-start", daemon=True).start()

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
            spares, self._spares = self._spares, []
        for spare in spares:
            spare.stop()

    def _stop_unused_later(self, spare: Spare) -> None:
        def check() -> None:
            with self._lock:
                if spare not in self._spares or self.keep_warm:
                    return
                self._spares.remove(spare)
            log.info("stopping the unused spare %s", spare.pid)
            spare.stop()

        timer = threading.Timer(self.unused_seconds, check)
        timer.daemon = True
        timer.start()
        self._unused_timer = timer
