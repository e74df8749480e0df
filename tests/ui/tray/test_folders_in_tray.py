"""Issue 5 in the tray: project views, the Experiments submenu, "New experiment name…", team
projects in the menu and settings, and "Add from folder…"; fake servers answering with the
experiments of a real store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from launcher.model import catalog
from launcher.model.catalog import Catalogs
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.state import State
from launcher.ui.controller import Controller
from launcher.ui.settings.discover_dialog import DiscoverDialog
from launcher.ui.settings.settings_dialog import SettingsDialog
from launcher.ui.tray.experiments_menu import ExperimentsMenu
from launcher.ui.tray.menu import populate
from launcher.ui.tray.name_dialog import NameDialog
from tests.model.test_links import ui_ids
from tests.naming_stores import PREFIX, PROJECT_ACTIVE
from tests.ui.fakes import FakeFactory, FakeServer, alive
from tests.ui.helpers import action, entries_menu_keepalive, make_controller, menu_entries
from tests.ui.rest_stub import RestStub

pytestmark = pytest.mark.gui


class StubbedFactory(FakeFactory):
    """Fake servers whose URL is a REST stub serving a real store's experiments."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def __call__(self, project: Project, paths: AppPaths, **kwargs: object) -> FakeServer:
        server = super().__call__(project, paths, **kwargs)
        real_start = server.start

        def start() -> str:
            real_start()
            server.url = self.url
            return self.url

        server.start = start  # type: ignore[method-assign]
        return server


@pytest.fixture
def factory(rest: RestStub) -> StubbedFactory:
    return StubbedFactory(rest.url)


@pytest.fixture
def urls() -> list[str]:
    return []


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "share" / "team.json"
    catalog.write_export(path, [Project("Emitter", str(tmp_path / "emitter" / "mlruns"))])
    return path


@pytest.fixture
def controller(qtbot, paths: AppPaths, named, factory, urls, catalog_file):  # type: ignore[no-untyped-def]
    ConfigStore(paths).save(
        Config(
            projects=[
                Project("DRA", str(named["folder"]), prefix=PREFIX),
                Project("Whole", str(named["folder"])),
            ],
            catalogs=[str(catalog_file)],
        )
    )
    ctl = make_controller(paths, factory, urls)
    qtbot.waitUntil(lambda: not ctl.team.refreshing, timeout=5000)
    yield ctl
    assert ctl.manager.stop_all(wait=True)
    assert alive(factory.all_pids()) == []


def _top_menu_actions(controller: Controller) -> dict[str, str]:
    """The top menu's named entries: object name -> text."""
    menu = QMenu()
    populate(menu, controller)
    entries_menu_keepalive.append(menu)
    return {a.objectName(): a.text() for a in menu.actions() if a.objectName()}


def start(qtbot, controller: Controller, name: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start(name)


def test_opening_a_project_opens_its_own_experiments(qtbot, controller, rest, urls) -> None:
    ids = rest.ids()
    menu_entries(controller)["DRA"].menuAction().trigger()  # starts it, then opens
    qtbot.waitUntil(lambda: len(urls) == 1, timeout=10_000)
    assert sorted(ui_ids(urls[0])) == sorted(ids[n] for n in PROJECT_ACTIVE)
    controller.open_project("DRA")  # running: opens again, the same view
    qtbot.waitUntil(lambda: len(urls) == 2, timeout=10_000)
    assert urls[1] == urls[0]
    controller.open_project("Whole")  # no prefix: the store's own list
    qtbot.waitUntil(lambda: len(urls) == 3, timeout=10_000)
    assert urls[2] == rest.url


def test_a_running_project_has_an_experiments_submenu(qtbot, controller, rest, urls) -> None:
    assert menu_entries(controller)["DRA"].findChild(ExperimentsMenu) is None  # stopped
    start(qtbot, controller, "DRA")
    sub = menu_entries(controller)["DRA"]
    experiments = sub.findChild(ExperimentsMenu)
    assert isinstance(experiments, ExperimentsMenu) and experiments.base_url == rest.url
    names = [a.objectName() for a in sub.actions()]
    assert names.index("experiments:DRA") == names.index("open-in-browser:DRA") + 1
    qtbot.waitUntil(lambda: experiments.content is not None, timeout=10_000)
    deep = next(
        a for a in experiments.actions() if a.objectName() == "experiment:dra_eval_001_holdout"
    )
    server = controller.manager.server("DRA")
    server.last_activity = 0.0
    deep.trigger()
    qtbot.waitUntil(lambda: len(urls) == 1, timeout=5000)
    assert urls == [f"{rest.url}#/experiments/{rest.ids()['dra_eval_001_holdout']}"]
    assert server.last_activity > 0.0  # a deep link counts as use: no idle stop


def test_new_experiment_name_from_the_menu(qtbot, controller, rest) -> None:
    action(menu_entries(controller)["DRA"], "new-experiment-name").trigger()
    dialog = controller.windows["name:DRA"]
    assert isinstance(dialog, NameDialog) and dialog.isVisible()
    assert dialog.base_url is None  # stopped: read from the store itself
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)
    dialog.description_edit.setText("from the tray")
    assert dialog.preview.text() == "dra_train_006_from_the_tray"
    dialog.close()
    start(qtbot, controller, "DRA")
    before = rest.requests
    action(menu_entries(controller)["DRA"], "new-experiment-name").trigger()
    dialog = controller.windows["name:DRA"]
    assert dialog.base_url == rest.url  # running: its server is asked
    qtbot.waitUntil(lambda: not dialog.loading and rest.requests > before, timeout=10_000)
    dialog.close()


def test_team_projects_are_marked_read_only_and_open(
    qtbot, controller, factory, catalog_file
) -> None:
    entries = menu_entries(controller)
    assert list(entries) == ["DRA", "Whole", "Emitter"]
    team = entries["Emitter"]
    assert team.title() == "Emitter  [team]  —  stopped"
    assert not action(team, "edit").isEnabled()
    assert (
        entries["DRA"].title() == "DRA  —  stopped" and action(entries["DRA"], "edit").isEnabled()
    )
    assert "refresh-team" in _top_menu_actions(controller)
    assert "team-problem" not in _top_menu_actions(controller)
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        team.menuAction().trigger()  # a team project starts like any other
    assert [s.project.name for s in factory.servers] == ["Emitter"]
    assert controller.state("Emitter") is State.RUNNING
    # Settings lists it, greyed and read-only; duplicating makes a local copy.
    dialog = SettingsDialog(controller)
    qtbot.addWidget(dialog)
    rows = [dialog.table.topLevelItem(i) for i in range(dialog.table.topLevelItemCount())]
    assert [r.text(0) for r in rows] == ["DRA", "Whole", "Emitter  [team]"]
    dialog.table.setCurrentItem(rows[2])
    assert dialog.selected_name() == "Emitter"
    assert not dialog.buttons["edit"].isEnabled() and not dialog.buttons["remove"].isEnabled()
    assert dialog.buttons["duplicate"].isEnabled()
    dialog.edit()  # forced: still no editor for a read-only project
    assert dialog.editor is None
    # The share goes offline: the last known copy stays, and the menu says so.
    catalog_file.unlink()
    with qtbot.waitSignal(controller.team.changed, timeout=5000):
        controller.refresh_team()
    assert "Emitter" in menu_entries(controller)
    assert _top_menu_actions(controller)["team-problem"] == (
        "Team catalog could not be read: showing its last known copy"
    )
    assert ConfigStore(controller.paths).load().config.find("Emitter") is None  # never copied


def test_settings_add_from_folder(qtbot, controller, named) -> None:
    share = named["share"]
    dialog = SettingsDialog(controller)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.buttons["discover"].click()
    finder = dialog.discover_dialog
    assert isinstance(finder, DiscoverDialog) and finder.isVisible()
    finder.root_edit.setText(str(share))
    finder.scan_button.click()
    qtbot.waitUntil(lambda: not finder.scanning, timeout=20_000)
    assert {item.text(0) for item in finder.rows()} == {"dra (2)", "emitter (2)"}
    with qtbot.waitSignal(finder.added, timeout=5000):
        finder.add_button.click()
    listed = [
        dialog.table.topLevelItem(i).text(0)  # type: ignore[union-attr]
        for i in range(dialog.table.topLevelItemCount())
    ]
    # Proposed names are unique against local and team projects (case-insensitive).
    assert listed == ["DRA", "Whole", "dra (2)", "emitter (2)", "Emitter  [team]"]
    assert not any(item.flags() & Qt.ItemFlag.ItemIsEnabled for item in finder.rows())


def test_a_first_read_of_a_catalog_is_not_reported_as_a_failure(
    qtbot, paths: AppPaths, urls, monkeypatch, tmp_path: Path
) -> None:
    release = threading.Event()
    real_refresh = Catalogs.refresh

    def slow(self, sources):  # type: ignore[no-untyped-def]
        release.wait(10)
        return real_refresh(self, sources)

    monkeypatch.setattr(Catalogs, "refresh", slow)
    ConfigStore(paths).save(Config(catalogs=[str(tmp_path / "offline" / "team.json")]))
    ctl = make_controller(paths, FakeFactory(), urls)
    top = _top_menu_actions(ctl)
    assert "team-problem" not in top  # not read yet, and being read: nothing failed yet
    assert top["refresh-team"] == "Reading team projects…"
    with qtbot.waitSignal(ctl.team.changed, timeout=5000):
        release.set()
    top = _top_menu_actions(ctl)
    assert top["team-problem"] == "Team catalog could not be read"  # no copy to show
    assert top["refresh-team"] == "Refresh team projects"
