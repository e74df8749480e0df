"""The composed tray app (fake servers): show, hand-over messages, quit leaves nothing."""

from __future__ import annotations

import pytest

from launcher.app.second_start import run_tray
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.state import State
from launcher.ui.tray.tray_app import TrayApp
from tests.ui.fakes import FakeFactory, alive
from tests.ui.helpers import write_config

pytestmark = pytest.mark.gui


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def urls() -> list[str]:
    return []


@pytest.fixture
def app(qtbot, paths: AppPaths, factory, urls):  # type: ignore[no-untyped-def]
    write_config(
        paths, [Project("Alpha", "/data/a/mlruns"), Project("Beta", "/data/b/mlruns")],
        last_project="Beta",
    )  # fmt: skip
    tray_app = TrayApp(paths, server_factory=factory, opener=urls.append, use_tray=True)
    yield tray_app
    tray_app.shutdown()
    assert alive(factory.all_pids()) == []


def test_open_message_opens_that_project(qtbot, app, factory, urls) -> None:
    with qtbot.waitSignal(app.manager.ready, timeout=5000):
        app.handle({"command": "open", "name": "Alpha"})
    qtbot.waitUntil(lambda: urls == [factory.of("Alpha")[0].url], timeout=3000)


def test_activate_message_opens_the_last_used_project(qtbot, app, factory) -> None:
    with qtbot.waitSignal(app.manager.ready, timeout=5000):
        app.handle({"command": "activate"})
    assert [s.project.name for s in factory.servers] == ["Beta"]


def test_unknown_project_is_reported_not_raised(qtbot, app) -> None:
    with qtbot.waitSignal(app.controller.notify, timeout=1000) as note:
        app.handle({"command": "open", "name": "Nope"})
    assert note.args[0] == "Unknown project" and "Alpha, Beta" in note.args[1]


def test_quit_stops_every_server_and_waits_for_the_trees(qtbot, app, factory) -> None:
    factory.delays["Beta"] = 3.0  # still starting at quit time
    with qtbot.waitSignal(app.manager.ready, timeout=5000):
        app.controller.start("Alpha")
    app.controller.start("Beta")
    qtbot.wait(100)
    pids = factory.all_pids()
    assert len(alive(pids)) == 2
    assert app.tray is not None
    app.controller.quit()  # what the menu's Quit does
    assert alive(pids) == []  # quit returned only after the trees were gone
    assert app.manager.state("Alpha") is State.STOPPED
    assert app.shutdown() is True  # a second call (aboutToQuit) is harmless


def test_without_a_tray_a_window_has_the_menu(qtbot, paths, factory, urls) -> None:
    tray_app = TrayApp(paths, server_factory=factory, opener=urls.append, use_tray=False)
    assert tray_app.tray is None and tray_app.window is not None
    tray_app.show()
    assert tray_app.window.isVisible()
    tray_app.shutdown()
    assert not tray_app.window.isVisible()


def test_bad_arguments_are_a_usage_error(capsys) -> None:
    assert run_tray(["open"]) == 2
    assert run_tray(["frobnicate", "x"]) == 2
    assert "usage: mlflow-launcher [open NAME]" in capsys.readouterr().err


def test_the_app_log_rotates_and_keeps_a_few_copies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import logging

    from launcher.app.start_tray import _AppLogHandler

    path = tmp_path / "launcher.log"
    handler = _AppLogHandler(path, max_bytes=200, backups=2)
    logger = logging.getLogger("test-rotation")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for i in range(60):
            logger.warning("line %02d of the app log", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["launcher.log", "launcher.log.1", "launcher.log.2"]
    assert path.stat().st_size < 250
    assert path.read_text().splitlines()[-1] == "line 59 of the app log"


def test_quit_message_stops_every_server_like_the_menu(qtbot, app, factory, monkeypatch) -> None:
    quits: list[bool] = []
    monkeypatch.setattr("launcher.ui.tray.tray_app.QApplication.quit", lambda: quits.append(True))
    with qtbot.waitSignal(app.manager.ready, timeout=5000):
        app.controller.start("Alpha")
    pids = factory.all_pids()
    assert len(alive(pids)) == 1
    app.handle({"command": "quit"})  # what `mlflow-launcher quit` sends
    assert alive(pids) == []
    assert quits == [True]
    assert [s.project.name for s in factory.servers] == ["Alpha"]  # nothing opened instead
