"""A running project's "Experiments" submenu: grouped by stage, deep links, never blocking."""

from __future__ import annotations

import threading
import time

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication, QMenu

from launcher.model import links
from launcher.model.links import ExperimentMenu
from launcher.model.naming import Experiment
from launcher.model.project import Project
from launcher.server.stores import experiments
from launcher.ui.tray.experiments_menu import LOADING, ExperimentsMenu
from tests.model.test_links import ui_ids
from tests.naming_stores import PREFIX, PROJECT_ACTIVE
from tests.ui.rest_stub import RestStub

pytestmark = pytest.mark.gui


def describe(menu: QMenu) -> list[str]:
    """The entries as a reader sees them: ``---`` separators, ``[stage (n)]`` headers."""
    out = []
    for action in menu.actions():
        if action.isSeparator():
            out.append("---")
        elif action.objectName().startswith("stage:"):
            out.append(f"[{action.text()}]")
        else:
            out.append(action.text())
    return out


def find(menu: QMenu, name: str):  # type: ignore[no-untyped-def]
    for action in menu.actions():
        if action.objectName() == name:
            return action
    raise AssertionError(f"no {name} in {[a.objectName() for a in menu.actions()]}")


def two_per_stage(project: Project, url: str) -> ExperimentMenu:
    return experiments.read_menu(project, url, per_stage=2)


def test_groups_a_real_store_by_stage_other_last_with_more(qtbot, rest: RestStub) -> None:
    opened: list[str] = []
    project = Project("DRA", "/unused", prefix=PREFIX)
    menu = ExperimentsMenu(project, rest.url, opened.append, reader=two_per_stage)
    qtbot.waitUntil(lambda: menu.content is not None, timeout=10_000)
    assert describe(menu) == [
        "All of DRA (8 experiments)",
        "---",
        "[prep  (1)]",  # the stage with the newest experiment first
        "dra_prep_01_clean",
        "---",
        "[eval  (1)]",
        "dra_eval_001_holdout",
        "---",
        "[train  (3)]",  # 001, 002, 004; 005 is deleted
        "dra_train_004_after_gap",
        "dra_train_002_bigger_lr",
        "More… (1 more in train)",
        "---",
        "[Other  (3)]",  # names that do not follow the convention: last, though newest
        "dra_emitter_train_001_x",
        "dra_train_x_bad",
        "More… (1 more in Other)",
    ]
    assert not find(menu, "stage:train").isEnabled()
    ids = rest.ids()
    find(menu, "experiment:dra_train_002_bigger_lr").trigger()
    assert opened[-1] == f"{rest.url}#/experiments/{ids['dra_train_002_bigger_lr']}"
    find(menu, "more:train").trigger()
    train = ["dra_train_001_baseline", "dra_train_002_bigger_lr", "dra_train_004_after_gap"]
    assert sorted(ui_ids(opened[-1])) == sorted(ids[n] for n in train)
    find(menu, "experiments-all").trigger()
    assert sorted(ui_ids(opened[-1])) == sorted(ids[n] for n in PROJECT_ACTIVE)
    # A click on the submenu's own entry opens the project's view as well.
    menu.menuAction().trigger()
    assert opened[-1] == opened[-2]


def test_a_slow_server_never_blocks_the_menu(qtbot, rest: RestStub) -> None:
    rest.delay = 1.5
    project = Project("DRA", "/unused", prefix=PREFIX)
    started = time.monotonic()
    menu = ExperimentsMenu(project, rest.url, lambda _url: None)
    assert time.monotonic() - started < 0.5
    assert describe(menu) == [LOADING] and menu.loading
    assert not menu.actions()[0].isEnabled()
    # The GUI thread keeps running while the server thinks.
    ticks: list[float] = []
    qtbot.waitUntil(lambda: ticks.append(time.monotonic()) or len(ticks) >= 5, timeout=1000)
    assert describe(menu) == [LOADING]
    qtbot.waitUntil(lambda: menu.content is not None, timeout=10_000)
    assert describe(menu)[0] == "All of DRA (8 experiments)"
    # The next menu (the tray rebuilds it on every open) shows the last list at once.
    again = ExperimentsMenu(project, rest.url, lambda _url: None)
    assert describe(again)[0] == "All of DRA (8 experiments)" and again.loading


def test_an_unreadable_server_says_so_and_can_be_retried(qtbot, rest: RestStub) -> None:
    rest.fail = True
    project = Project("DRA", "/unused", prefix=PREFIX)
    menu = ExperimentsMenu(project, rest.url, lambda _url: None)
    qtbot.waitUntil(lambda: menu.error is not None, timeout=10_000)
    assert describe(menu) == ["Could not read the experiments", "Try again"]
    assert "500" in find(menu, "experiments-error").toolTip()
    rest.fail = False
    find(menu, "experiments-retry").trigger()
    qtbot.waitUntil(lambda: menu.content is not None, timeout=10_000)
    assert menu.error is None and describe(menu)[0] == "All of DRA (8 experiments)"
    # A later failure keeps the last good list and says it may be old.
    rest.fail = True
    menu.load()
    qtbot.waitUntil(lambda: menu.error is not None, timeout=10_000)
    assert describe(menu)[0].startswith("Could not refresh")
    assert describe(menu)[1] == "All of DRA (8 experiments)"


def test_a_project_without_experiments_and_odd_names(qtbot) -> None:
    base = "http://127.0.0.1:5999/"
    odd = [Experiment("7", "r&d_train_001_a&b", 1), Experiment("8", "r&d_misc", 2)]

    def reader(project: Project, url: str) -> ExperimentMenu:
        # "Other" first on purpose: the menu still puts it last.
        menu = links.build_menu(url, project.prefix, odd)
        return ExperimentMenu(menu.project_url, list(reversed(menu.groups)), menu.total)

    opened: list[str] = []
    menu = ExperimentsMenu(Project("R&D", "/x", prefix="r&d_"), base, opened.append, reader=reader)
    qtbot.waitUntil(lambda: menu.content is not None, timeout=5000)
    assert describe(menu) == [
        "All of R&&D (2 experiments)",
        "---",
        "[train  (1)]",
        "r&&d_train_001_a&&b",  # shown as "a&b", not as a mnemonic
        "---",
        "[Other  (1)]",
        "r&&d_misc",
    ]
    find(menu, "experiment:r&d_train_001_a&b").trigger()
    assert opened == [base + "#/experiments/7"]

    empty = ExperimentsMenu(
        Project("New", "/x", prefix="new_"),
        base,
        opened.append,
        reader=lambda p, u: links.build_menu(u, p.prefix, odd),
    )
    qtbot.waitUntil(lambda: empty.content is not None, timeout=5000)
    assert describe(empty) == [
        "All of New (0 experiments)",
        "No experiments starting with 'new_' yet",
    ]
    find(empty, "experiments-all").trigger()
    assert opened[-1] == base  # no experiments: the store's own list


def test_a_menu_closed_before_the_answer_is_left_alone(qtbot) -> None:
    release = threading.Event()
    calls: list[str] = []

    def reader(project: Project, url: str) -> ExperimentMenu:
        calls.append(url)
        release.wait(10)
        return links.build_menu(url, project.prefix, [Experiment("1", "p_train_001_a", 1)])

    project = Project("P", "/x", prefix="p_")
    menu = ExperimentsMenu(project, "http://127.0.0.1:1/", lambda _url: None, reader=reader)
    menu.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(menu), timeout=2000)
    release.set()
    # The answer arrives for a deleted menu: dropped without error, but kept for the next one.
    qtbot.waitUntil(
        lambda: (
            describe(
                ExperimentsMenu(project, "http://127.0.0.1:1/", lambda _url: None, load=False)
            )[0]
            == "All of P (1 experiment)"
        ),
        timeout=5000,
    )
    QApplication.processEvents()
    assert calls == ["http://127.0.0.1:1/"]
