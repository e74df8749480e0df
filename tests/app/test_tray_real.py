"""The tray against real MLflow servers: open in the browser, failures named, nothing left.

Each real server takes a few seconds to start here, so there are only a few of these.
"""

from __future__ import annotations

import socket
from pathlib import Path

import psutil
import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import rest
from launcher.server.state import State
from launcher.ui.tray.tray_app import TrayApp
from tests.ui.fakes import alive
from tests.ui.helpers import action, menu_entries, write_config

pytestmark = [pytest.mark.gui, pytest.mark.process]

READY_MS = 120_000


def tree(pid: int | None) -> list[int]:
    assert pid is not None
    return [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]


@pytest.fixture
def urls() -> list[str]:
    return []


def make_app(paths: AppPaths, urls: list[str], projects: list[Project]) -> TrayApp:
    write_config(paths, projects)
    return TrayApp(paths, opener=urls.append, use_tray=True)


def test_click_opens_a_real_server_and_quit_leaves_nothing(
    qtbot, paths: AppPaths, urls, folder_store: Path, sqlite_store: Path
) -> None:
    app = make_app(paths, urls, [Project("Folder", str(folder_store)),
                                 Project("Sqlite", str(sqlite_store))])  # fmt: skip
    try:
        with qtbot.waitSignal(app.manager.ready, timeout=READY_MS):
            menu_entries(app.controller)["Folder"].menuAction().trigger()
        qtbot.waitUntil(lambda: len(urls) == 1, timeout=3000)
        assert urls[0].startswith("http://127.0.0.1:") and rest.is_healthy(urls[0])
        names = {e["name"] for e in rest.search_experiments(urls[0])}
        assert "dra_train_001_baseline" in names
        # Switching keeps the first one running (default policy).
        with qtbot.waitSignal(app.manager.ready, timeout=READY_MS):
            app.controller.open_project("Sqlite")
        qtbot.waitUntil(lambda: len(urls) == 2, timeout=3000)
        assert urls[1] != urls[0] and rest.is_healthy(urls[0]) and rest.is_healthy(urls[1])
        pids = tree(app.manager.server("Folder").pid) + tree(app.manager.server("Sqlite").pid)  # type: ignore[union-attr]
        assert app.tray is not None and app.tray.aggregate == "running"
        app.controller.quit()
        assert alive(pids) == []
        assert not rest.is_healthy(urls[0]) and not rest.is_healthy(urls[1])
    finally:
        app.shutdown()


def test_stop_from_the_menu_stops_the_real_tree(
    qtbot, paths: AppPaths, urls, sqlite_store: Path
) -> None:
    app = make_app(paths, urls, [Project("Sqlite", str(sqlite_store))])
    try:
        with qtbot.waitSignal(app.manager.ready, timeout=READY_MS):
            app.controller.start("Sqlite")
        pids = tree(app.manager.server("Sqlite").pid)  # type: ignore[union-attr]
        assert urls == []  # Start (unlike a click on the project) does not open the browser
        action(menu_entries(app.controller)["Sqlite"], "stop").trigger()
        qtbot.waitUntil(lambda: app.manager.state("Sqlite") is State.STOPPED, timeout=15_000)
        qtbot.waitUntil(lambda: alive(pids) == [], timeout=10_000)
    finally:
        app.shutdown()


def test_a_taken_port_is_named_in_the_notification_and_the_menu(
    qtbot, paths: AppPaths, urls, folder_store: Path
) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    app = make_app(paths, urls, [Project("Busy", str(folder_store), port=port)])
    try:
        with qtbot.waitSignal(app.controller.notify, timeout=READY_MS) as note:
            app.controller.open_project("Busy")
        title, text, level, project = note.args
        assert (title, level, project) == ("Busy: Port taken", "error", "Busy")
        assert "another program is listening" in text, text
        assert menu_entries(app.controller)["Busy"].title() == "Busy  —  failed: Port taken"
        assert app.tray is not None and app.tray.aggregate == "failed"
        assert urls == []
        server = app.manager.server("Busy")
        assert server is not None and server.pid is None
    finally:
        app.shutdown()
        blocker.close()


def test_a_missing_store_is_named_and_nothing_is_created(
    qtbot, paths: AppPaths, urls, tmp_path: Path
) -> None:
    missing = tmp_path / "share" / "gone" / "mlruns"
    app = make_app(paths, urls, [Project("Gone", str(missing))])
    try:
        with qtbot.waitSignal(app.controller.notify, timeout=READY_MS) as note:
            app.controller.open_project("Gone")
        assert note.args[0] == "Gone: Store missing"
        assert "does not exist" in note.args[1]
        assert not missing.parent.exists()
    finally:
        app.shutdown()
