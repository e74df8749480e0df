"""The pool's rules with stand-in spares (no process): how many it keeps, one import at a time,
which spare a click gets, the refill held back during hand-overs and then urgent, and the memory
check. The real processes are tests/server/test_spare.py's."""

from __future__ import annotations

import time
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

import pytest

from launcher.model.paths import AppPaths
from launcher.server.warm import spare_pool
from launcher.server.warm.spare_pool import SparePool

Memory = namedtuple("Memory", "total available")


@dataclass
class FakeSpare:
    pid: int
    low_priority: bool
    on_warm: Any
    command: Any
    warm: bool = False
    port: int | None = 5000
    started_at: float = field(default_factory=time.monotonic)
    stopped: bool = False

    def alive(self) -> bool:
        return not self.stopped

    def fits(self, cmd: object) -> bool:
        return True

    def wait_for_port(self, timeout: float) -> int | None:
        return self.port

    def stop(self) -> None:
        self.stopped = True


@dataclass
class Command:
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[FakeSpare]:
    spares: list[FakeSpare] = []

    def start(command: Any, *, low_priority: bool = True, on_warm: Any = None) -> FakeSpare:
        spares.append(FakeSpare(1000 + len(spares), low_priority, on_warm, command))
        return spares[-1]

    monkeypatch.setattr(spare_pool, "start_spare", start)
    monkeypatch.setattr(SparePool, "_current_command", lambda self: Command())
    monkeypatch.setattr(SparePool, "_start_next", lambda self: None)  # the tests drive ensure()
    monkeypatch.setattr(spare_pool, "memory_allows", lambda extra_mib=0: True)
    return spares


def warm_all(spares: list[FakeSpare]) -> None:
    for spare in spares:
        spare.warm = True


def test_spares_start_one_at_a_time_up_to_the_count(paths: AppPaths, started: list) -> None:
    pool = SparePool(paths, count=3)
    for _ in range(3):
        pool.ensure()
    assert len(started) == 1, "a second import started before the first was warm"
    for expected in (2, 3, 3):
        warm_all(started)
        pool.ensure()
        assert len(started) == expected
    assert all(s.low_priority for s in started), "an idle tray's imports run at low priority"


def test_memory_short_keeps_the_first_spare_only(
    paths: AppPaths, started: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spare_pool, "memory_allows", lambda extra_mib=0: False)
    pool = SparePool(paths, count=3)
    pool.ensure()
    warm_all(started)
    pool.ensure()
    assert len(started) == 1


def test_a_click_takes_a_warm_spare_first_then_the_oldest(paths: AppPaths, started: list) -> None:
    pool = SparePool(paths, count=3)
    pool.ensure()
    warm_all(started)
    pool.ensure()  # the second, not warm yet
    first, second = started
    assert pool.claim(object()) is first  # type: ignore[arg-type]
    assert pool.claim(object()) is second  # type: ignore[arg-type]
    assert pool.claim(object()) is None  # type: ignore[arg-type]


def test_the_refill_waits_for_the_hand_overs_then_runs_at_normal_priority(
    paths: AppPaths, started: list
) -> None:
    pool = SparePool(paths, count=2)
    pool.ensure()
    warm_all(started)
    pool.ensure()
    warm_all(started)
    a = pool.claim(object())  # type: ignore[arg-type]
    b = pool.claim(object())  # type: ignore[arg-type]
    assert a is not None and b is not None and not pool.spares
    pool.replenish(a)
    pool.ensure()
    assert len(started) == 2, "a refill competed with a project still being served"
    pool.replenish(b)
    pool.ensure()
    assert len(started) == 3 and started[-1].low_priority is False
    warm_all(started)
    pool.ensure()
    assert len(started) == 4 and started[-1].low_priority is False
    warm_all(started)
    pool.ensure()
    assert len(pool.spares) == 2
    pool.claim(object())  # type: ignore[arg-type]
    pool.replenish(started[2])
    pool.ensure()
    assert started[-1].low_priority is False  # a click again: urgent again


def test_fewer_spares_stop_the_youngest(paths: AppPaths, started: list) -> None:
    pool = SparePool(paths, count=2)
    pool.ensure()
    warm_all(started)
    pool.ensure()
    pool.set_count(1)
    assert [s.stopped for s in started] == [False, True]
    pool.close()
    assert all(s.stopped for s in started)


def test_memory_allows_keeps_a_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    gib = 2**30
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory(24 * gib, 20 * gib))
    assert spare_pool.memory_allows()
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory(24 * gib, 3 * gib))
    assert not spare_pool.memory_allows(), "15 % of 24 GiB must stay available"
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory(4 * gib, int(1.2 * gib)))
    assert not spare_pool.memory_allows(), "at least 1 GiB must stay available"


@dataclass
class PortCommand:
    port: int


def test_take_moves_the_command_to_the_claimed_spares_port(paths: AppPaths, started: list) -> None:
    """The spare's port is bound already: the project's command must name it, not its own."""
    pool = SparePool(paths, count=1)
    pool.ensure()
    warm_all(started)
    cmd, spare = pool.take(PortCommand(1234))  # type: ignore[arg-type]
    assert spare is started[0] and cmd.port == 5000
    cmd, spare = pool.take(PortCommand(1234))  # type: ignore[arg-type]
    assert spare is None and cmd.port == 1234
