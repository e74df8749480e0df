"""The tray's updates: asked once, a daily check, "Update to X.Y.Z" in the menu, an install
that runs the installer only after its checks, and nothing at all for a pip install."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.ui.controller import Controller
from launcher.ui.updates import Updates
from launcher.updates import installer
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import make_controller, top_actions, write_config
from tests.updates.feeds import INSTALLER, make_feed

pytestmark = pytest.mark.gui


def wired(controller: Controller, asked: list[str], answer: bool) -> Updates:
    """The controller's Updates, as an installed Windows copy, with the question answered."""

    def ask(feed: str) -> bool:
        asked.append(feed)
        return answer

    updates = Updates(
        controller.paths,
        lambda: controller.config.settings,
        controller.update_config,
        controller.notify,
        applies=True,
        ask=ask,
        parent=controller,
    )
    updates.changed.connect(controller.changed)
    controller.updates = updates
    return updates


def settings(paths: AppPaths):  # type: ignore[no-untyped-def]
    return ConfigStore(paths).load().config.settings


def test_asked_once_then_checked_and_offered_in_the_menu(
    qtbot, paths: AppPaths, tmp_path: Path
) -> None:
    make_feed(tmp_path / "feed")
    write_config(paths, [], update_feed=str(tmp_path / "feed"))
    controller = make_controller(paths, FakeFactory(), [])
    asked: list[str] = []
    updates = wired(controller, asked, True)
    assert "Update to 9.9.9" not in top_actions(controller)
    with qtbot.waitSignal(updates.changed, timeout=10_000):
        updates.tick()
    assert asked == [str(tmp_path / "feed")]
    assert settings(paths).updates == "on"
    assert settings(paths).last_update_check > 0
    assert "Update to 9.9.9" in top_actions(controller)
    updates.tick()  # asked once only, and the check is not due again today
    assert asked == [str(tmp_path / "feed")] and not updates.checking


def test_declined_means_no_check(qtbot, paths: AppPaths, tmp_path: Path) -> None:
    make_feed(tmp_path / "feed")
    write_config(paths, [], update_feed=str(tmp_path / "feed"))
    controller = make_controller(paths, FakeFactory(), [])
    asked: list[str] = []
    updates = wired(controller, asked, False)
    updates.tick()
    assert settings(paths).updates == "off"
    assert not updates.checking and updates.offer is None
    updates.tick()
    assert len(asked) == 1


def test_a_pip_install_never_asks_nor_reads_a_feed(qtbot, paths: AppPaths) -> None:
    controller = make_controller(paths, FakeFactory(), [])
    assert controller.updates.applies is False  # not an installed Windows copy
    controller.updates.start()
    assert not controller.updates._timer.isActive()


def offered(qtbot, paths: AppPaths, tmp_path: Path, monkeypatch, *, wrong_sum: bool):  # type: ignore[no-untyped-def]
    """A controller whose Updates offers 9.9.9 from a folder feed; the installer stood in for
    (the list it appends to is what would have run)."""
    started: list[Path] = []
    monkeypatch.setattr(installer, "why_not_installable", lambda: None)
    monkeypatch.setattr(installer, "start", started.append)
    make_feed(tmp_path / "feed", wrong_sum=wrong_sum)
    write_config(paths, [], updates="on", update_feed=str(tmp_path / "feed"))
    controller = make_controller(paths, FakeFactory(), [])
    updates = wired(controller, [], True)
    with qtbot.waitSignal(updates.changed, timeout=10_000):
        updates.check_now()
    return controller, updates, started


def test_install_runs_the_installer_after_the_checks(
    qtbot, paths: AppPaths, tmp_path: Path, monkeypatch
) -> None:
    controller, updates, started = offered(qtbot, paths, tmp_path, monkeypatch, wrong_sum=False)
    with qtbot.waitSignal(controller.notify, timeout=10_000) as told:
        updates.install()
    assert told.args[0] == "Installing MLflow Launcher 9.9.9"
    assert [p.name for p in started] == [INSTALLER]


def test_a_bad_checksum_is_refused_and_said(
    qtbot, paths: AppPaths, tmp_path: Path, monkeypatch
) -> None:
    controller, updates, started = offered(qtbot, paths, tmp_path, monkeypatch, wrong_sum=True)
    with qtbot.waitSignal(controller.notify, timeout=10_000) as told:
        updates.install()
    assert told.args[0] == "The update was not installed"
    assert "installed version is unchanged" in told.args[1]
    assert started == [] and not updates.installing
