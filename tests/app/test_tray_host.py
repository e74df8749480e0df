"""The tray app and its warm host (a fake pool): started at show, followed on the setting,
warmed on menu open when the setting is off, a dead host told once, closed at quit."""

from __future__ import annotations

import pytest

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.ui.tray.tray_app import TrayApp
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import write_config

pytestmark = pytest.mark.gui


class FakePool:
    def __init__(self) -> None:
        self.keep_warm = True
        self.on_lost = None
        self.calls: list[str] = []

    def ensure(self) -> None:
        self.calls.append("ensure")

    def warm_up(self) -> None:
        self.calls.append("warm_up")

    def set_keep_warm(self, keep: bool) -> None:
        self.keep_warm = keep
        self.calls.append(f"keep={keep}")

    def close(self) -> None:
        self.calls.append("close")


@pytest.mark.parametrize("use_tray", [True, False])
def test_host_follows_the_setting_and_the_menu(qtbot, paths: AppPaths, use_tray: bool) -> None:
    write_config(paths, [Project("Alpha", "/data/a/mlruns")], keep_warm=True)
    pool = FakePool()
    app = TrayApp(paths, server_factory=FakeFactory(), use_tray=use_tray, hosts=pool)  # type: ignore[arg-type]
    try:
        app.show()
        qtbot.waitUntil(lambda: "ensure" in pool.calls, timeout=3000)
        menu = app.tray.menu if app.tray is not None else app.window.menu  # type: ignore[union-attr]
        menu.aboutToShow.emit()
        qtbot.wait(50)
        assert "warm_up" not in pool.calls, "kept warm already: the menu starts nothing"

        def off(config) -> None:  # type: ignore[no-untyped-def]
            config.settings.keep_warm = False

        app.controller.update_config(off)
        qtbot.waitUntil(lambda: "keep=False" in pool.calls, timeout=3000)
        menu.aboutToShow.emit()
        qtbot.waitUntil(lambda: "warm_up" in pool.calls, timeout=3000)
        notices: list[tuple] = []
        app.controller.notify.connect(lambda *args: notices.append(args))
        assert pool.on_lost is not None
        pool.on_lost(["a-1", "b-2"])  # from a host's reader thread, in the real app
        qtbot.waitUntil(lambda: len(notices) == 1, timeout=3000)
        assert "a-1, b-2" in notices[0][1] and notices[0][2] == "warning"
    finally:
        app.shutdown()
    assert pool.calls[-1] == "close"


def test_settings_checkbox_saves_keep_warm(qtbot, paths: AppPaths) -> None:
    from launcher.ui.settings.settings_dialog import SettingsDialog
    from tests.ui.helpers import make_controller

    controller = make_controller(paths, FakeFactory(), [])
    dialog = SettingsDialog(controller)
    qtbot.addWidget(dialog)
    assert dialog.keep_warm.isChecked()
    dialog.keep_warm.setChecked(False)
    assert ConfigStore(paths).load().config.settings.keep_warm is False


def test_ctrl_k_in_any_window_opens_find_project(qtbot, paths: AppPaths) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QWidget

    from launcher.ui.tray import menu_groups

    write_config(paths, [Project("Alpha", "/data/a/mlruns")])
    app = TrayApp(paths, server_factory=FakeFactory(), use_tray=False)
    try:
        window = QWidget()
        qtbot.addWidget(window)
        window.show()
        QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: bool(menu_groups._finders), timeout=3000)
        assert menu_groups._finders[0].shown_names() == ["Alpha"]
        menu_groups._finders[0].close()
    finally:
        app.shutdown()
