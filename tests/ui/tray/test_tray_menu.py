"""The tray menu and icon against fake servers: states, clicks, notifications, no leftovers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QSystemTrayIcon

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.checks.failures import Cause, Failure
from launcher.server.signals import emit
from launcher.server.state import State
from launcher.ui.controller import Controller
from launcher.ui.tray.fallback import FallbackWindow
from launcher.ui.tray.log_viewer import LogViewer
from launcher.ui.tray.menu import ClickableSubmenus, populate
from launcher.ui.tray.tray_icon import TrayIcon
from tests.ui.fakes import FakeFactory, alive
from tests.ui.helpers import (
    FakeAutostart,
    action,
    make_controller,
    menu_entries,
    top_actions,
    write_config,
)

pytestmark = pytest.mark.gui


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def urls() -> list[str]:
    return []


@pytest.fixture
def autostart() -> FakeAutostart:
    return FakeAutostart()


@pytest.fixture
def controller(qtbot, paths: AppPaths, factory, urls, autostart):  # type: ignore[no-untyped-def]
    write_config(
        paths,
        [Project("Alpha", "/data/alpha/mlruns"), Project("Beta", "/data/beta.db", prefix="b_"),
         Project("Gamma", "/data/gamma/mlruns")],
        last_project="Beta",
    )  # fmt: skip
    ctl = make_controller(paths, factory, urls, autostart)
    yield ctl
    assert ctl.manager.stop_all(wait=True)
    assert alive(factory.all_pids()) == []


def start(qtbot, controller: Controller, name: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start(name)


def test_menu_lists_every_project_with_its_state(qtbot, controller, factory) -> None:
    factory.failures["Gamma"] = Failure(Cause.PORT_TAKEN, "port 5000 is in use")
    start(qtbot, controller, "Alpha")
    with qtbot.waitSignal(controller.manager.failed, timeout=5000):
        controller.start("Gamma")
    port = factory.of("Alpha")[0].port
    entries = menu_entries(controller)
    assert list(entries) == ["Alpha", "Beta", "Gamma"]  # config order
    assert entries["Alpha"].title() == f"Alpha  —  running on port {port}"
    assert entries["Beta"].title() == "Beta  —  stopped"
    assert entries["Gamma"].title() == "Gamma  —  failed: Port taken"
    why = action(entries["Gamma"], "why")
    assert why.text() == "Why: Port taken" and "port 5000 is in use" in why.toolTip()
    assert action(entries["Alpha"], "stop").isEnabled()
    assert not action(entries["Beta"], "stop").isEnabled()
    assert action(entries["Alpha"], "copy-url").isEnabled()
    assert not action(entries["Beta"], "copy-url").isEnabled()
    assert top_actions(controller)[3:] == [
        "Stop all", "Settings…", "Start at login", "About MLflow Launcher", "Quit"
    ]  # fmt: skip


def test_starting_shows_in_menu_icon_and_tooltip(qtbot, controller, factory) -> None:
    factory.delays["Alpha"] = 1.0
    tray = TrayIcon(controller)
    controller.start("Alpha")
    assert menu_entries(controller)["Alpha"].title() == "Alpha  —  starting…"
    qtbot.waitUntil(lambda: tray.aggregate == "starting", timeout=2000)
    assert "Starting: Alpha" in tray.icon.toolTip()
    qtbot.waitUntil(lambda: tray.aggregate == "running", timeout=5000)
    port = factory.of("Alpha")[0].port
    assert f"Running: Alpha (:{port})" in tray.icon.toolTip()


def test_clicking_a_project_starts_it_and_opens_the_browser(qtbot, controller, factory, urls):  # type: ignore[no-untyped-def]
    entries = menu_entries(controller)
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        entries["Gamma"].menuAction().trigger()
    qtbot.waitUntil(lambda: urls == [factory.of("Gamma")[0].url], timeout=3000)
    assert ConfigStore(controller.paths).load().config.settings.last_project == "Gamma"
    # A second click on the running project opens it again without a new server.
    menu_entries(controller)["Gamma"].menuAction().trigger()
    qtbot.waitUntil(lambda: len(urls) == 2, timeout=3000)
    assert len(factory.of("Gamma")) == 1


def test_a_mouse_click_on_the_project_entry_opens_it(qtbot, controller, factory, urls) -> None:
    """Qt ignores clicks on submenu entries; ClickableSubmenus turns them into 'open'."""
    menu = ClickableSubmenus()
    populate(menu, controller)
    menu.popup(QPoint(10, 10))
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    entry = next(a for a in menu.actions() if a.objectName() == "project:Alpha")
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(entry).center())
    assert not menu.isVisible()
    qtbot.waitUntil(lambda: len(urls) == 1, timeout=3000)


def test_stop_and_stop_all_leave_no_process(qtbot, controller, factory) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        start(qtbot, controller, name)
    pids = factory.all_pids()
    assert len(alive(pids)) == 3
    action(menu_entries(controller)["Alpha"], "stop").trigger()
    qtbot.waitUntil(lambda: controller.state("Alpha") is State.STOPPED, timeout=5000)
    assert alive(factory.of("Alpha")[0].pids) == []
    stop_all = next(a for a in _top_menu(controller).actions() if a.text() == "Stop all")
    assert stop_all.isEnabled()
    stop_all.trigger()
    qtbot.waitUntil(lambda: controller.manager.aggregate() == "idle", timeout=5000)
    qtbot.waitUntil(lambda: alive(pids) == [], timeout=5000)
    assert not next(
        a for a in _top_menu(controller).actions() if a.text() == "Stop all"
    ).isEnabled()


def test_restart_gives_a_new_server(qtbot, controller, factory) -> None:
    start(qtbot, controller, "Alpha")
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        action(menu_entries(controller)["Alpha"], "restart").trigger()
    assert len(factory.of("Alpha")) == 2
    assert alive(factory.of("Alpha")[0].pids) == []


def test_copy_url_and_tracking_snippet(qtbot, controller, factory) -> None:
    start(qtbot, controller, "Beta")
    entries = menu_entries(controller)
    action(entries["Beta"], "copy-url").trigger()
    assert QGuiApplication.clipboard().text() == factory.of("Beta")[0].url
    action(entries["Beta"], "copy-tracking-snippet").trigger()
    snippet = QGuiApplication.clipboard().text()
    ast.parse(snippet)
    assert "mlflow.set_tracking_uri('sqlite:////data/beta.db')" in snippet
    assert "mlflow.set_experiment('b_my-experiment')" in snippet


def test_a_failure_is_notified_with_its_cause_and_the_click_shows_the_log(
    qtbot, controller, factory
) -> None:
    factory.failures["Alpha"] = Failure(Cause.STORE_MISSING, "/data/alpha/mlruns does not exist.")
    tray = TrayIcon(controller)
    shown: list[tuple[str, str]] = []
    tray.icon.showMessage = lambda title, text, *a: shown.append((title, text))  # type: ignore[method-assign,assignment]
    with qtbot.waitSignal(controller.notify, timeout=5000) as note:
        controller.open_project("Alpha")
    title, text, level, project = note.args
    assert (title, level, project) == ("Alpha: Store missing", "error", "Alpha")
    assert "does not exist" in text
    assert shown == [(title, text)]
    assert tray.aggregate == "failed"
    emit(
        tray.icon.messageClicked,
    )
    viewer = controller.windows["log:Alpha"]
    assert isinstance(viewer, LogViewer) and viewer.isVisible()
    qtbot.waitUntil(lambda: "failed: Store missing" in viewer.text.toPlainText(), timeout=3000)
    viewer.close()


def test_schema_upgrade_is_asked_and_yes_restarts_with_upgrade(
    qtbot, controller, factory, monkeypatch
) -> None:
    factory.failures["Beta"] = Failure(Cause.SCHEMA_OUTDATED, "the database is older")
    asked: list[tuple] = []

    def question(*args):  # type: ignore[no-untyped-def]
        asked.append(args)
        factory.failures.pop("Beta")
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.open_project("Beta")
    assert len(asked) == 1
    assert asked[0][-1] == QMessageBox.StandardButton.No  # the default answer
    assert "older version of MLflow" in asked[0][2]
    first, second = factory.of("Beta")
    assert not first.upgrade_schema and second.upgrade_schema


def test_schema_upgrade_declined_changes_nothing(qtbot, controller, factory, monkeypatch) -> None:
    factory.failures["Beta"] = Failure(Cause.SCHEMA_OUTDATED, "the database is older")
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    with qtbot.waitSignal(controller.notify, timeout=5000) as note:
        controller.open_project("Beta")
    assert note.args[0] == "Beta: Database schema out of date"
    assert len(factory.of("Beta")) == 1
    assert controller.state("Beta") is State.FAILED


def test_double_click_opens_the_last_used_project(qtbot, controller, factory, urls) -> None:
    tray = TrayIcon(controller)
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        emit(tray.icon.activated, QSystemTrayIcon.ActivationReason.DoubleClick)
    assert [s.project.name for s in factory.servers] == ["Beta"]
    qtbot.waitUntil(lambda: len(urls) == 1, timeout=3000)


def test_double_click_without_a_last_project_opens_settings(qtbot, paths, factory, urls) -> None:
    write_config(paths, [Project("Alpha", "/data/alpha/mlruns")], last_project="")
    controller = make_controller(paths, factory, urls)
    tray = TrayIcon(controller)
    emit(tray.icon.activated, QSystemTrayIcon.ActivationReason.DoubleClick)
    settings = controller.windows["settings"]
    assert settings.isVisible()
    assert factory.servers == []
    settings.close()


def test_start_at_login_toggles_autostart_and_config(qtbot, controller, autostart) -> None:
    login = next(a for a in _top_menu(controller).actions() if a.text() == "Start at login")
    assert login.isCheckable() and not login.isChecked()
    login.trigger()
    assert autostart.calls == [True]
    assert ConfigStore(controller.paths).load().config.settings.start_at_login is True
    login = next(a for a in _top_menu(controller).actions() if a.text() == "Start at login")
    assert login.isChecked()


def test_about_names_launcher_and_mlflow_versions(qtbot, controller, monkeypatch) -> None:
    import importlib.metadata

    import launcher

    seen: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: seen.append(text))
    next(a for a in _top_menu(controller).actions() if a.text().startswith("About")).trigger()
    assert f"MLflow Launcher {launcher.__version__}" in seen[0]
    assert f"MLflow {importlib.metadata.version('mlflow')}" in seen[0]


def test_the_menu_follows_config_changes_made_elsewhere(qtbot, controller, paths) -> None:
    ConfigStore(paths).update(lambda c: c.add(Project("Delta", "/data/delta/mlruns")))
    assert list(menu_entries(controller)) == ["Alpha", "Beta", "Gamma", "Delta"]


def test_fallback_window_offers_the_same_menu(qtbot, controller) -> None:
    window = FallbackWindow(controller)
    qtbot.addWidget(window)
    emit(
        window.menu.aboutToShow,
    )
    texts = [a.text() for a in window.menu.actions() if not a.isSeparator()]
    assert texts == top_actions(controller)
    emit(controller.notify, "Alpha: Port taken", "port 5000 is in use", "error", "Alpha")
    assert "Port taken" in window.message.text() and "Show log" in window.message.text()


def test_quit_is_forwarded(qtbot, controller) -> None:
    with qtbot.waitSignal(controller.quitRequested, timeout=1000):
        next(a for a in _top_menu(controller).actions() if a.text() == "Quit").trigger()


def test_icons_exist_for_every_state() -> None:
    from launcher.ui.common import icons

    for state in icons.STATES:
        assert (icons.assets_dir() / f"tray-{state}.png").is_file()
        assert not icons.state_icon(state).isNull()
    assert Path(icons.asset("launcher.png")).is_file()


def _top_menu(controller: Controller):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMenu

    from tests.ui.helpers import entries_menu_keepalive

    menu = QMenu()
    populate(menu, controller)
    entries_menu_keepalive.append(menu)
    return menu


def test_ready_is_notified_after_a_slow_start_only(qtbot, controller, factory, monkeypatch) -> None:
    from launcher.ui import server_notices

    notes: list[str] = []
    controller.notify.connect(lambda title, *_: notes.append(title))
    start(qtbot, controller, "Alpha")  # fast: the browser is the news, no notification
    assert notes == []
    monkeypatch.setattr(server_notices, "SLOW_START_SECONDS", 0.0)
    start(qtbot, controller, "Beta")
    assert notes == ["Beta is ready"]


def test_show_log_and_edit_from_the_project_submenu(qtbot, controller, factory) -> None:
    start(qtbot, controller, "Alpha")
    entries = menu_entries(controller)
    action(entries["Alpha"], "show-log").trigger()
    viewer = controller.windows["log:Alpha"]
    assert isinstance(viewer, LogViewer) and viewer.path == factory.of("Alpha")[0].log_path
    qtbot.waitUntil(lambda: "ready at http://127.0.0.1:" in viewer.text.toPlainText(), timeout=3000)
    viewer.close()
    action(entries["Alpha"], "edit").trigger()
    editor = controller.windows["edit:Alpha"]
    assert editor.isVisible() and editor.name_edit.text() == "Alpha"
    assert editor.running_note.isVisible()
    editor.close()


def test_left_click_opens_the_menu(qtbot, controller, monkeypatch) -> None:
    tray = TrayIcon(controller)
    shown: list[QPoint] = []
    monkeypatch.setattr(tray.menu, "popup", lambda pos, *a: shown.append(pos))
    emit(tray.icon.activated, QSystemTrayIcon.ActivationReason.Trigger)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)


def test_double_click_opens_the_project_and_not_the_menu(qtbot, controller, factory, monkeypatch):
    tray = TrayIcon(controller)
    shown: list[QPoint] = []
    monkeypatch.setattr(tray.menu, "popup", lambda pos, *a: shown.append(pos))
    # What Windows sends for a double-click: the first click's Trigger, then DoubleClick.
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        emit(tray.icon.activated, QSystemTrayIcon.ActivationReason.Trigger)
        emit(tray.icon.activated, QSystemTrayIcon.ActivationReason.DoubleClick)
    assert [s.project.name for s in factory.servers] == ["Beta"]
    qtbot.wait(3 * tray._left_click.interval())  # the menu would have popped up by now
    assert shown == []


def test_open_and_copy_url_carry_the_servers_key_and_unprotected_servers_say_so(
    qtbot, controller, factory, urls
) -> None:
    start(qtbot, controller, "Alpha")
    server = factory.of("Alpha")[0]
    url = server.url
    server.access_key = "k" * 43  # the key comes from the server object, nowhere else
    entries = menu_entries(controller)
    action(entries["Alpha"], "copy-url").trigger()
    assert QGuiApplication.clipboard().text() == f"{url}?launcher_key={'k' * 43}"
    action(entries["Alpha"], "open-in-browser").trigger()
    qtbot.waitUntil(lambda: len(urls) == 1, timeout=3000)
    assert urls == [f"{url}?launcher_key={'k' * 43}"]
    assert not [a for a in entries["Alpha"].actions() if a.objectName().startswith("unprotected:")]
    factory.of("Alpha")[0].lean = False  # type: ignore[attr-defined]  # the `mlflow server` fallback
    note = action(menu_entries(controller)["Alpha"], "unprotected")
    assert not note.isEnabled() and "Not protected" in note.text()
    assert "mlflow server" in note.toolTip()
