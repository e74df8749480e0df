"""The tray's run watch against a folder store written by hand, with fake servers: a run that
ends is one notification, a burst one summary, nothing is replayed after a restart, a store
that goes away is one notice, the "Active runs" submenu lists what runs, and a click on a run's
notification starts its project's server and opens the run's page."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.runs.watcher import state_path
from launcher.ui.controller import Controller
from launcher.ui.tray.menu import populate
from tests.server.runs.test_folder_reads import make_store, write_run
from tests.ui.fakes import FakeFactory, alive
from tests.ui.helpers import entries_menu_keepalive, make_controller, write_config

pytestmark = pytest.mark.gui
NOW = int(time.time() * 1000)
NEVER_STALLS = 10**6
"""The store's runs are written with times from when this module was collected: in a long run
of the suite a RUNNING one would pass the 15-minute stall window (tests of stalls set it)."""


def end(run: Path, status: int = 3) -> None:
    meta = run / "meta.yaml"
    text = meta.read_text().replace("status: 1", f"status: {status}")
    meta.write_text(text.replace("end_time: null", f"end_time: {int(time.time() * 1000)}"))


def look(qtbot, controller: Controller) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    said: list[tuple[str, str, str, str]] = []
    controller.notify.connect(lambda *args: said.append(args))
    watch = controller.run_watch
    before = watch.looks
    watch.look()
    qtbot.waitUntil(lambda: watch.looks > before, timeout=10_000)
    return said


def active_menu(controller: Controller) -> QMenu | None:
    menu = QMenu()
    populate(menu, controller)
    entries_menu_keepalive.append(menu)
    found = [a.menu() for a in menu.actions() if a.objectName() == "active-runs"]
    return found[0] if found else None  # type: ignore[return-value]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    make_store(root)
    return root


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


def test_events_menu_click_and_no_replay(qtbot, paths: AppPaths, store: Path, factory) -> None:  # type: ignore[no-untyped-def]
    write_config(paths, [Project("dra", str(store), prefix="dra_", watch_runs=True)],
                 stall_minutes=NEVER_STALLS)  # fmt: skip
    live = [write_run(store / "2", f"live{i}", 1) for i in range(6)]
    urls: list[str] = []
    controller = make_controller(paths, factory, urls)
    try:
        assert look(qtbot, controller) == []  # the first look only records
        assert state_path(paths).is_file()
        sub = active_menu(controller)
        assert sub is not None and sub.title() == "Active runs (6)"
        entry = sub.actions()[0].text()
        assert entry.startswith("dra · dra_train_002 · r-live") and "loss 0.25 (step 1)" in entry

        end(live[0])
        said = look(qtbot, controller)
        assert said == [("dra: r-live0 finished", "dra_train_002: loss 0.25", "info", "dra")]
        controller.notification_clicked()  # not running: started, then its run's page
        qtbot.waitUntil(lambda: bool(urls), timeout=5000)
        assert "#/experiments/2/runs/live0" in urls[-1]

        end(live[1], status=4)
        end(live[2], status=5)
        said = look(qtbot, controller)
        assert [s[0] for s in said] == ["dra: r-live1 failed", "dra: r-live2 was killed"]
        assert said[0][2] == "warning"
        stamp = state_path(paths).stat().st_mtime_ns
        assert look(qtbot, controller) == []  # said once
        assert state_path(paths).stat().st_mtime_ns == stamp  # and a look of no news writes not
    finally:
        assert controller.manager.stop_all(wait=True)
    assert alive(factory.all_pids()) == []

    for run in live[3:]:
        end(run)
    again = make_controller(paths, factory, urls)  # a restarted tray
    try:
        said = look(qtbot, again)
        assert len(said) == 3  # below a burst; the three ended while the tray was closed
        assert look(qtbot, again) == []
    finally:
        assert again.manager.stop_all(wait=True)
    kept = json.loads(state_path(paths).read_text())
    assert set(kept["projects"]) == {"dra"}


def test_a_burst_is_one_summary_and_a_lost_store_one_notice(
    qtbot, paths: AppPaths, store: Path, factory
) -> None:  # type: ignore[no-untyped-def]
    write_config(paths, [Project("dra", str(store), prefix="dra_", watch_runs=True)],
                 stall_minutes=NEVER_STALLS)  # fmt: skip
    live = [write_run(store / "1", f"s{i}", 1) for i in range(20)]
    controller = make_controller(paths, factory, [])
    try:
        look(qtbot, controller)
        for run in live:
            end(run, status=3 if run.name != "s7" else 4)
        said = look(qtbot, controller)
        assert said == [("20 runs: 19 finished, 1 failed", "dra 20", "info", "")]
        assert active_menu(controller) is None  # nothing runs: no empty submenu

        moved = store.with_name("away")
        store.rename(moved)
        said = look(qtbot, controller)
        assert len(said) == 1 and said[0][0] == "dra: runs not watched, store unreachable"
        assert look(qtbot, controller) == []
        moved.rename(store)
        write_run(store / "1", "after", 1)
        assert look(qtbot, controller) == []
        end(store / "1" / "after")
        assert [s[0] for s in look(qtbot, controller)] == ["dra: r-after finished"]
    finally:
        assert controller.manager.stop_all(wait=True)


def test_watched_by_default_when_new_or_opened_lately(
    qtbot, paths: AppPaths, store: Path, factory
) -> None:  # type: ignore[no-untyped-def]
    write_config(paths, [Project("old", str(store)), Project("off", str(store), watch_runs=False)])
    controller = make_controller(paths, factory, [])
    try:
        assert controller.run_watch.watched() == []  # the first watch ever: every project old
        ConfigStore(paths).update(lambda c: c.add(Project("new", str(store))))
        controller.reload()
        assert [p.name for p in controller.run_watch.watched()] == ["new"]
        controller.open_project("old")
        assert {p.name for p in controller.run_watch.watched()} == {"new", "old"}
        assert "old" in ConfigStore(paths).load().config.settings.opened
    finally:
        assert controller.manager.stop_all(wait=True)


def test_interval_zero_turns_watching_off(qtbot, paths: AppPaths, store: Path, factory) -> None:  # type: ignore[no-untyped-def]
    write_config(paths, [Project("dra", str(store), watch_runs=True)], watch_interval_seconds=0)
    controller = make_controller(paths, factory, [])
    try:
        assert not controller.run_watch.enabled
        controller.run_watch.look()
        assert controller.run_watch.looks == 0
    finally:
        assert controller.manager.stop_all(wait=True)


def test_settings_and_the_editor_set_watching(qtbot, paths: AppPaths, store: Path, factory) -> None:  # type: ignore[no-untyped-def]
    from launcher.ui.settings.project_editor import ProjectEditor
    from launcher.ui.settings.settings_dialog import SettingsDialog

    write_config(paths, [Project("dra", str(store))])
    controller = make_controller(paths, factory, [])
    try:
        dialog = SettingsDialog(controller)
        qtbot.addWidget(dialog)
        assert (dialog.watch_interval.value(), dialog.stall.value()) == (30, 15)
        dialog.watch_interval.setValue(0)
        dialog.stall.setValue(5)
        settings = ConfigStore(paths).load().config.settings
        assert (settings.watch_interval_seconds, settings.stall_minutes) == (0, 5)
        assert not controller.run_watch.enabled

        editor = ProjectEditor(controller, controller.config.get("dra"))
        qtbot.addWidget(editor)
        assert editor.watch_check.isChecked() and editor.project().watch_runs is None
        editor.watch_check.setChecked(False)
        assert editor.project().watch_runs is False
    finally:
        assert controller.manager.stop_all(wait=True)
