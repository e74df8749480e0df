"""The tray menu with 200 projects: one column, one screen high, groups that read, Find project."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu

from launcher.model.menu_layout import GROUP_MAX
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.ui.tray.menu import populate
from launcher.ui.tray.menu_groups import show_finder
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import make_controller, write_config

pytestmark = pytest.mark.gui


def many_projects() -> list[Project]:
    out = [Project(f"vision-{i:03d}", f"/srv/ml/vision/v{i:03d}/mlruns") for i in range(90)]
    out += [Project(f"nlp-{i:03d}", f"/data/nlp/n{i:03d}/mlflow.db") for i in range(60)]
    out += [Project(f"{chr(97 + i % 26)}-misc-{i:02d}", f"/m{i}/runs.db") for i in range(50)]
    return out


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def controller(qtbot, paths: AppPaths, factory):  # type: ignore[no-untyped-def]
    recent = [f"nlp-{i:03d}" for i in range(10)]
    write_config(paths, many_projects(), last_project="nlp-000", recent=recent)
    ctl = make_controller(paths, factory, [])
    yield ctl
    ctl.manager.stop_all(wait=True)


def build(controller) -> QMenu:  # type: ignore[no-untyped-def]
    menu = QMenu()
    populate(menu, controller)
    return menu


def names(menu: QMenu) -> list[str]:
    found = [a.objectName() for a in menu.actions()]
    return [n.split(":", 1)[1] for n in found if n.startswith("project:")]


def test_menu_is_one_column_one_screen_high(qtbot, controller, factory) -> None:
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.open_project("vision-042")
    menu = build(controller)
    qtbot.addWidget(menu)
    top = names(menu)
    assert top[0] == "vision-042", "running projects come first"
    assert top[1:] == [f"nlp-{i:03d}" for i in range(8)], "then the 8 most recently used"
    objects = [a.objectName() for a in menu.actions()]
    assert "recent-heading" in objects and "all-projects" in objects and "find-project" in objects
    screen = QGuiApplication.primaryScreen().availableGeometry()
    menu.show()
    assert menu.sizeHint().height() <= screen.height()
    assert menu.sizeHint().width() < screen.width() / 2, "one column"
    menu.hide()


def test_all_projects_are_grouped_and_filled_on_hover(qtbot, controller) -> None:
    menu = build(controller)
    qtbot.addWidget(menu)
    everything = next(a.menu() for a in menu.actions() if a.objectName() == "all-projects")
    assert isinstance(everything, QMenu)
    groups = {a.objectName(): a.menu() for a in everything.actions()}
    assert set(groups) == {"group:/srv/ml/vision", "group:/data/nlp", "group:Other projects"}
    seen: list[str] = []

    def walk(sub: QMenu) -> None:
        sub.aboutToShow.emit()  # filled when first shown
        assert 0 < len(sub.actions()) <= GROUP_MAX, sub.title()
        seen.extend(names(sub))
        for act in sub.actions():
            if act.objectName().startswith("group:"):
                walk(act.menu())  # type: ignore[arg-type]

    for sub in groups.values():
        assert sub is not None and sub.actions() == [], "not built before it is shown"
        walk(sub)
    assert sorted(seen) == sorted(p.name for p in many_projects())


def test_find_project_types_ahead_and_enter_opens(qtbot, controller, factory) -> None:
    finder = show_finder(controller)
    qtbot.addWidget(finder)
    assert len(finder.shown_names()) == 200
    QTest.keyClicks(finder.query, "nlp-04")
    assert finder.shown_names() == [f"nlp-{i:03d}" for i in range(40, 50)]
    finder.query.setText("/srv/ml/vision/v017")  # the store matches too
    assert finder.shown_names() == ["vision-017"]
    QTest.keyClick(finder.query, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: [s.project.name for s in factory.servers] == ["vision-017"], timeout=3000
    )
    assert not finder.isVisible()


def test_find_project_arrow_keys_choose(qtbot, controller, factory) -> None:
    finder = show_finder(controller)
    qtbot.addWidget(finder)
    finder.query.setText("misc")
    first, second = finder.shown_names()[:2]
    QTest.keyClick(finder.query, Qt.Key.Key_Down)
    QTest.keyClick(finder.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [s.project.name for s in factory.servers] == [second], timeout=3000)
    assert first != second
