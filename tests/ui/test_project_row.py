"""The views' read model: one row per project (state, status, URL, failure, protection, fast view,
which actions apply), built by the controller from real servers (fakes built on MlflowServer),
and what the menu shows beside the rows (the update offer, Stop all, the icon's state)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import launcher.ui
from launcher.model.catalog import Listed
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreKind
from launcher.model.updates import Release
from launcher.server.checks.failures import Cause, Failure
from launcher.server.state import State
from launcher.ui.controller import Controller
from launcher.ui.project_row import ProjectRow
from launcher.ui.updates import UpdateOffer
from launcher.updates.feed import Offer
from tests.ui.fakes import FakeFactory, alive
from tests.ui.helpers import make_controller, write_config

pytestmark = pytest.mark.gui


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def controller(qtbot, paths: AppPaths, factory: FakeFactory) -> Iterator[Controller]:  # type: ignore[no-untyped-def]
    write_config(
        paths,
        [Project("Folder", "/data/team/mlruns", prefix="dra_"),
         Project("Open", "/data/open.db", access_key=False),
         Project("Remote", "https://mlflow.example.com"),
         Project("Broken", "ftp://nowhere/x"),
         Project("Viewed", "/data/viewed/mlruns", fast_view=True)],
    )  # fmt: skip
    ctl = make_controller(paths, factory, [])
    yield ctl
    assert ctl.manager.stop_all(wait=True)
    assert alive(factory.all_pids()) == []


def rows(controller: Controller) -> dict[str, ProjectRow]:
    return {row.name: row for row in controller.rows()}


def start(qtbot, controller: Controller, name: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start(name)


def test_a_stopped_project_row(controller: Controller) -> None:
    row = rows(controller)["Folder"]
    assert list(rows(controller)) == ["Folder", "Open", "Remote", "Broken", "Viewed"]
    assert (row.state, row.status, row.url, row.failure) == (State.STOPPED, "stopped", None, None)
    assert row.label == "Folder" and row.hint == "" and not row.team
    assert row.store == "/data/team/mlruns" and row.store_kind is StoreKind.FOLDER
    assert row.project.prefix == "dra_"
    assert not (row.running or row.active or row.live or row.can_copy_url or row.has_experiments)
    assert row.can_edit and row.movable and row.can_move
    assert row.unprotected == "" and row.fast_view == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.status = "running"  # type: ignore[misc]


def test_store_kinds_decide_what_is_offered(controller: Controller) -> None:
    by_name = rows(controller)
    assert by_name["Open"].movable and by_name["Open"].store_kind is StoreKind.SQLITE
    assert not by_name["Remote"].movable and by_name["Remote"].store_kind is StoreKind.REMOTE
    broken = by_name["Broken"]
    assert broken.store_kind is None and broken.store == "ftp://nowhere/x"
    assert not broken.movable and broken.can_edit
    assert by_name["Viewed"].fast_view == "Fast view: not built yet"


def test_a_running_project_row(qtbot, controller: Controller, factory: FakeFactory) -> None:
    start(qtbot, controller, "Folder")
    server = factory.of("Folder")[0]
    row = rows(controller)["Folder"]
    assert row.state is State.RUNNING and row.status == f"running on port {server.port}"
    assert row.url == server.url and row.failure is None
    assert row.running and row.active and row.live and row.can_copy_url and row.has_experiments
    assert row.unprotected == ""  # its access key is on, and the lean server is not ruled out
    server.lean = False  # the `mlflow server` fallback: no key in front of it
    assert "mlflow server" in rows(controller)["Folder"].unprotected


def test_an_unprotected_server_says_why(qtbot, controller: Controller) -> None:
    assert rows(controller)["Open"].unprotected == ""  # only a running server is told
    start(qtbot, controller, "Open")
    assert "access key turned off" in rows(controller)["Open"].unprotected


def test_a_failed_project_row(qtbot, controller: Controller, factory: FakeFactory) -> None:
    factory.failures["Open"] = Failure(Cause.PORT_TAKEN, "port 5000 is in use")
    with qtbot.waitSignal(controller.manager.failed, timeout=5000):
        controller.start("Open")
    row = rows(controller)["Open"]
    assert row.state is State.FAILED and row.status == "failed: Port taken"
    assert row.failure is not None and row.failure.message == "port 5000 is in use"
    assert row.live and not row.active and row.url is None and not row.can_copy_url


def test_a_team_project_row_is_read_only(controller: Controller) -> None:
    listed = Listed(Project("Shared", "/srv/shared/mlruns"), catalog="/srv/catalog.json")
    row = controller.row(listed)
    assert row.team and row.label == "Shared  [team]" and "/srv/catalog.json" in row.hint
    assert not row.can_edit and row.movable and not row.can_move


def test_what_the_menu_shows_beside_the_rows(
    qtbot, controller: Controller, factory: FakeFactory
) -> None:
    assert controller.update_offer is None
    assert not controller.anything_active() and controller.aggregate() == "idle"
    assert controller.self_updating is False  # not an installed Windows copy
    release = Release("0.2.0", "MLflowLauncher-0.2.0-setup.exe", "0" * 64)
    controller.updates.offer = Offer(release, "/feed/MLflowLauncher-0.2.0-setup.exe", "/feed")
    assert controller.update_offer == UpdateOffer("0.2.0", installing=False)
    controller.updates.installing = True
    assert controller.update_offer == UpdateOffer("0.2.0", installing=True)
    factory.delays["Folder"] = 1.0
    controller.start("Folder")
    qtbot.waitUntil(lambda: controller.aggregate() == "starting", timeout=2000)
    assert controller.anything_active()
    qtbot.waitUntil(lambda: controller.aggregate() == "running", timeout=5000)


def test_no_view_reaches_past_the_controller() -> None:
    """The views read rows and the controller's own methods; the manager, the update checker,
    the fast views, the team catalogs and the run watch are the controller's to ask (a view
    that reaches in fails here)."""
    reach = re.compile(r"controller\.(manager|updates|fast_views|team|run_watch)\b")
    ui = Path(launcher.ui.__file__).parent
    found = [
        f"{path.relative_to(ui)}:{number}"
        for path in sorted(ui.rglob("*.py"))
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if reach.search(line)
    ]
    assert found == []
