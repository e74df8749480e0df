"""A share that goes away while its project is served: "store unreachable", one notification,
and back to running once the store answers again (the watch's real checks, a fake server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.stores import reachable
from launcher.ui.controller import Controller
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import make_controller, write_config


def status(controller: Controller, name: str) -> str:
    """What the menu and the settings list say of ``name`` (its row's status)."""
    return next(row.status for row in controller.rows() if row.name == name)


@pytest.fixture
def share(tmp_path: Path) -> Path:
    store = tmp_path / "share" / "team" / "mlruns"
    store.mkdir(parents=True)
    return store


def test_a_share_that_goes_away_is_said_once_and_its_return_too(
    qtbot, paths: AppPaths, share: Path
) -> None:
    write_config(paths, [Project("Team", str(share)), Project("Elsewhere", "/nowhere/mlruns")])
    controller = make_controller(paths, FakeFactory(), [])
    notes: list[tuple[str, str]] = []
    controller.notify.connect(lambda title, text, level, name: notes.append((title, level)))
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start("Team")
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start("Elsewhere")  # its store never answered: it cannot *stop* answering
    watch = controller.store_watch

    def checked() -> None:
        """One round of the watch's checks, answered."""
        watch.check()
        qtbot.waitUntil(lambda: not watch._asking, timeout=15000)

    checked()
    assert status(controller, "Team").startswith("running on port")
    gone = share.parent.parent.with_name("share-offline")
    share.parent.parent.rename(gone)  # the share disappears while it is served
    checked()
    assert status(controller, "Team") == "store unreachable"
    checked()  # still gone: no second notification
    assert notes == [("Team: store unreachable", "warning")]
    gone.rename(share.parent.parent)
    checked()
    assert status(controller, "Team").startswith("running on port")
    assert status(controller, "Elsewhere").startswith("running on port")
    assert notes == [("Team: store unreachable", "warning")]
    controller.stop_all()


def test_a_store_that_hangs_counts_as_unreachable(
    qtbot, paths: AppPaths, share: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(paths, [Project("Team", str(share))])
    controller = make_controller(paths, FakeFactory(), [])
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start("Team")
    watch = controller.store_watch
    watch.check()
    qtbot.waitUntil(lambda: not watch._asking, timeout=15000)
    monkeypatch.setattr(reachable, "path_exists", lambda path, timeout: None)  # timed out
    with qtbot.waitSignal(watch.changed, timeout=15000) as changed:
        watch.check()
    assert changed.args == ["Team", False]
    controller.stop_all()
