"""ServerManager: starts and stops off the GUI thread, reports through signals, leaves nothing.

Most tests use FakeServer (a real sleeping process, ready in 50 ms); one test drives the real
MlflowServer to prove the wiring end to end.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import psutil
import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import rest
from launcher.server.checks.failures import Cause, Failure
from launcher.server.manager import POLICY_STOP, ServerManager
from launcher.server.state import State
from tests.ui.fakes import FakeFactory, alive

pytestmark = pytest.mark.gui


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def urls() -> list[str]:
    return []


@pytest.fixture
def manager(qtbot, paths: AppPaths, factory: FakeFactory, urls: list[str]):  # type: ignore[no-untyped-def]
    mgr = ServerManager(paths, server_factory=factory, opener=urls.append)
    yield mgr
    assert mgr.stop_all(wait=True)
    assert alive(factory.all_pids()) == []


def project(name: str = "A") -> Project:
    return Project(name=name, store=f"/data/{name}/mlruns")


def test_open_starts_then_opens_the_browser_once_ready(qtbot, manager, factory, urls) -> None:
    with qtbot.waitSignal(manager.ready, timeout=5000) as ready:
        manager.open(project("A"))
        assert manager.state("A") is State.STARTING  # at once, before the thread even ran
    name, url = ready.args
    assert name == "A" and url == factory.of("A")[0].url
    assert manager.state("A") is State.RUNNING
    qtbot.waitUntil(lambda: urls == [url], timeout=3000)
    assert manager.aggregate() == "running"
    assert manager.active() == [("A", State.RUNNING, url)]


def test_open_on_a_running_project_only_opens_it_again(qtbot, manager, factory, urls) -> None:
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.open(project("A"))
    manager.open(project("A"))
    qtbot.waitUntil(lambda: len(urls) == 2, timeout=3000)
    assert len(factory.servers) == 1
    assert urls[0] == urls[1]


def test_clicks_while_starting_open_the_browser_once(qtbot, manager, factory, urls) -> None:
    factory.delay = 0.5
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.open(project("A"))
        manager.open(project("A"))
        manager.start(project("A"))
    qtbot.wait(200)
    assert len(factory.servers) == 1
    assert len(urls) == 1


def test_start_without_browser_and_setting_off(qtbot, manager, urls) -> None:
    manager.configure(policy="keep", idle_minutes=30, open_browser=False)
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.open(project("A"))
    qtbot.wait(100)
    assert urls == []


def test_a_failed_start_reports_its_cause_and_opens_nothing(qtbot, manager, factory, urls) -> None:
    factory.failures["A"] = Failure(Cause.PORT_TAKEN, "port 5000 is in use")
    with qtbot.waitSignal(manager.failed, timeout=5000) as failed:
        manager.open(project("A"))
    name, failure = failed.args
    assert name == "A" and failure.cause is Cause.PORT_TAKEN
    assert manager.state("A") is State.FAILED
    assert manager.failure("A") == failure
    assert manager.aggregate() == "failed"
    assert urls == []


def test_stop_leaves_no_process(qtbot, manager, factory) -> None:
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.start(project("A"))
    pid = factory.of("A")[0].pid
    assert pid is not None and psutil.pid_exists(pid)
    manager.stop("A")
    qtbot.waitUntil(lambda: manager.state("A") is State.STOPPED, timeout=5000)
    qtbot.waitUntil(lambda: alive([pid]) == [], timeout=5000)
    assert manager.url("A") is None


def test_stop_while_starting_cancels_the_start(qtbot, manager, factory, urls) -> None:
    factory.delay = 1.0
    manager.open(project("A"))
    qtbot.wait(100)
    manager.stop("A")
    qtbot.waitUntil(lambda: manager.state("A") is State.STOPPED, timeout=5000)
    qtbot.wait(1200)
    assert manager.state("A") is State.STOPPED
    assert alive(factory.all_pids()) == []
    assert urls == []


def test_stop_before_the_worker_began_is_not_lost(qtbot, manager, factory) -> None:
    """A stop that lands before start() runs must still win (start() forgets earlier stops)."""
    factory.delay = 0.3
    manager.start(project("A"))
    manager.stop("A")  # same GUI-thread turn: the worker may not have called start() yet
    qtbot.wait(800)
    assert manager.state("A") is State.STOPPED
    assert alive(factory.all_pids()) == []


def test_stop_all_waits_until_every_tree_is_gone(qtbot, manager, factory) -> None:
    factory.delays["C"] = 2.0  # still starting when stop_all comes
    for name in ("A", "B"):
        with qtbot.waitSignal(manager.ready, timeout=5000):
            manager.start(project(name))
    manager.start(project("C"))
    qtbot.wait(100)
    pids = factory.all_pids()
    assert len(alive(pids)) == 3
    started = time.monotonic()
    assert manager.stop_all(wait=True)
    assert time.monotonic() - started < 5
    assert alive(pids) == []


def test_policy_stop_stops_the_others_when_switching(qtbot, manager, factory) -> None:
    manager.configure(policy=POLICY_STOP, idle_minutes=30, open_browser=True)
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.open(project("A"))
    a_pid = factory.of("A")[0].pid
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.open(project("B"))
    qtbot.waitUntil(lambda: manager.state("A") is State.STOPPED, timeout=5000)
    assert alive([a_pid or 0]) == []
    assert manager.state("B") is State.RUNNING


def test_policy_keep_leaves_the_others_running(qtbot, manager) -> None:
    for name in ("A", "B"):
        with qtbot.waitSignal(manager.ready, timeout=5000):
            manager.open(project(name))
    assert manager.state("A") is State.RUNNING and manager.state("B") is State.RUNNING


def test_idle_servers_are_stopped_and_busy_ones_are_not(qtbot, manager, factory) -> None:
    manager.configure(policy="keep", idle_minutes=1, open_browser=False)
    for name in ("A", "B"):
        with qtbot.waitSignal(manager.ready, timeout=5000):
            manager.start(project(name))
    factory.of("A")[0].last_activity = time.monotonic() - 61
    factory.of("B")[0].last_activity = time.monotonic() - 30
    with qtbot.waitSignal(manager.idleStopped, timeout=2000) as stopped:
        manager.check_idle()
    assert stopped.args == ["A"]
    qtbot.waitUntil(lambda: manager.state("A") is State.STOPPED, timeout=5000)
    assert manager.state("B") is State.RUNNING


def test_idle_stop_is_off_with_zero_minutes(qtbot, manager, factory) -> None:
    manager.configure(policy="keep", idle_minutes=0, open_browser=False)
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.start(project("A"))
    factory.of("A")[0].last_activity = time.monotonic() - 10_000
    manager.check_idle()
    qtbot.wait(100)
    assert manager.state("A") is State.RUNNING


def test_a_server_that_dies_is_reported_failed(qtbot, manager, factory) -> None:
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.start(project("A"))
    with qtbot.waitSignal(manager.failed, timeout=5000) as failed:
        psutil.Process(factory.of("A")[0].pid or 0).kill()
    assert failed.args[0] == "A"
    assert manager.state("A") is State.FAILED


def test_a_remote_project_stays_running_and_is_never_idle_stopped(qtbot, manager, factory) -> None:
    factory.remote.add("R")
    manager.configure(policy="keep", idle_minutes=1, open_browser=False)
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.open(project("R"))
    qtbot.wait(200)  # the watcher returned at once: nothing to watch
    assert manager.state("R") is State.RUNNING
    factory.of("R")[0].last_activity = time.monotonic() - 3600
    manager.check_idle()
    qtbot.wait(100)
    assert manager.state("R") is State.RUNNING


def test_restart_replaces_the_server_and_its_process(qtbot, manager, factory) -> None:
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.start(project("A"))
    old_pid = factory.of("A")[0].pid
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.restart(project("A"), upgrade_schema=True)
    first, second = factory.of("A")
    assert second.upgrade_schema and not first.upgrade_schema
    assert alive([old_pid or 0]) == []
    assert second.pid is not None and second.pid != old_pid


def test_rename_and_forget(qtbot, manager, factory) -> None:
    with qtbot.waitSignal(manager.ready, timeout=5000):
        manager.start(project("A"))
    pid = factory.of("A")[0].pid
    manager.rename("A", project("A2"))
    assert manager.state("A2") is State.RUNNING and manager.state("A") is State.STOPPED
    manager.forget("A2")
    assert "A2" not in manager.names()
    qtbot.waitUntil(lambda: alive([pid or 0]) == [], timeout=5000)


def test_a_broken_opener_does_not_break_the_manager(qtbot, paths, factory) -> None:
    def opener(url: str) -> None:
        raise RuntimeError("no browser")

    mgr = ServerManager(paths, server_factory=factory, opener=opener)
    with qtbot.waitSignal(mgr.ready, timeout=5000):
        mgr.open(project("A"))
    assert mgr.state("A") is State.RUNNING
    assert mgr.stop_all(wait=True)


@pytest.mark.process
def test_real_server_opens_in_the_browser_and_stops_cleanly(
    qtbot, paths: AppPaths, folder_store: Path
) -> None:
    urls: list[str] = []
    mgr = ServerManager(paths, opener=urls.append)
    with qtbot.waitSignal(mgr.ready, timeout=120_000):
        mgr.open(Project("Real", str(folder_store)))
    qtbot.waitUntil(lambda: len(urls) == 1, timeout=3000)
    assert rest.is_healthy(urls[0])
    server = mgr.server("Real")
    assert server is not None and server.pid is not None
    tree = [server.pid, *(p.pid for p in psutil.Process(server.pid).children(recursive=True))]
    assert mgr.stop_all(wait=True)
    assert alive(tree) == []
    assert not rest.is_healthy(urls[0])
    assert mgr.state("Real") is State.STOPPED
