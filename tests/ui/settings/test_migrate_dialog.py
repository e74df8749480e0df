""" "Move to SQLite…": the dialog runs the real migration in a worker thread with progress,
switches only a verified result, cancels without leaving a file; the tray and editor offer it,
and a fast view's submenu shows its view's age."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.stores import fast_view
from launcher.ui.settings.migrate_dialog import MigrateDialog
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import action, make_controller, menu_entries, write_config

pytestmark = pytest.mark.gui


def _dialog(qtbot, paths: AppPaths, store: Path, switched: list) -> MigrateDialog:  # type: ignore[no-untyped-def]
    dialog = MigrateDialog(
        Project("team", str(store)), paths, lambda p, db: switched.append((p.name, db))
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.mark.process
def test_the_dialog_migrates_verifies_and_switches(
    qtbot, paths: AppPaths, rich_store: Path, tmp_path: Path
) -> None:
    switched: list = []
    dialog = _dialog(qtbot, paths, rich_store, switched)
    target = tmp_path / "new.db"
    dialog.target_edit.setText(str(target))
    dialog.start_button.click()
    assert dialog.running and not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=240_000)
    assert dialog.outcome is not None and dialog.outcome.ok, dialog.report.toPlainText()
    assert switched == [("team", str(target))]
    assert "verified" in dialog.report.toPlainText() and target.is_file()
    assert dialog.close_button.text() == "Close"


@pytest.mark.process
def test_cancel_leaves_no_file_and_no_switch(
    qtbot, paths: AppPaths, rich_store: Path, tmp_path: Path
) -> None:
    switched: list = []
    dialog = _dialog(qtbot, paths, rich_store, switched)
    out = tmp_path / "out"
    out.mkdir()
    dialog.target_edit.setText(str(out / "new.db"))
    dialog.start_button.click()
    qtbot.waitUntil(lambda: "Starting" not in dialog.status.text(), timeout=120_000)
    dialog.close_button.click()  # Cancel while it runs
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.status.text() == "Cancelled."
    assert switched == [] and list(out.iterdir()) == []


def test_an_existing_database_is_refused_before_starting(
    qtbot, paths: AppPaths, tmp_path: Path
) -> None:
    store = tmp_path / "mlruns"
    store.mkdir()
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"x")
    dialog = _dialog(qtbot, paths, store, [])
    dialog.target_edit.setText(str(taken))
    assert not dialog.start_button.isEnabled()
    assert "already exists" in dialog.note.text()
    dialog.target_edit.setText(str(tmp_path / "fresh.db"))
    assert dialog.start_button.isEnabled() and "Artifacts are not copied" in dialog.note.text()


def test_the_tray_offers_the_move_and_shows_a_fast_views_age(
    qtbot, paths: AppPaths, tmp_path: Path
) -> None:
    (tmp_path / "a" / "mlruns").mkdir(parents=True)
    view = Project("View", str(tmp_path / "a" / "mlruns"), fast_view=True)
    write_config(
        paths,
        [Project("Folder", str(tmp_path / "a" / "mlruns")), Project("Db", str(tmp_path / "x.db")),
         view],
    )  # fmt: skip
    folder = fast_view.folder(paths, view)
    folder.mkdir(parents=True)
    taken = datetime.now().replace(hour=10, minute=32)
    (folder / f"view-{taken.strftime(fast_view.STAMP)}.db").write_bytes(b"")
    controller = make_controller(paths, FakeFactory(), [])
    entries = menu_entries(controller)
    assert action(entries["Folder"], "move-to-sqlite").isEnabled()
    assert not [a for a in entries["Db"].actions() if "move" in a.objectName()]
    age = action(entries["View"], "fast-view-age")
    assert age.text() == "Fast view: view of 10:32" and not age.isEnabled()
    action(entries["Folder"], "move-to-sqlite").trigger()
    dialog = controller.windows["migrate:Folder"]
    assert isinstance(dialog, MigrateDialog) and dialog.isVisible()
    dialog.close()
    assert [p.name for p in ConfigStore(paths).load().config.projects] == ["Folder", "Db", "View"]
    assert controller.manager.stop_all(wait=True)


def test_a_stale_fast_view_is_refreshed_on_open_and_its_server_restarted(
    qtbot, paths: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from launcher.ui.fast_view import FastViews

    view = Project("View", str(tmp_path / "mlruns"), fast_view=True)
    folder = fast_view.folder(paths, view)
    folder.mkdir(parents=True)
    old = datetime(2020, 1, 2, 3, 4)
    (folder / f"view-{old.strftime(fast_view.STAMP)}.db").write_bytes(b"")
    built: list[str] = []
    monkeypatch.setattr(fast_view, "refresh", lambda project, paths: built.append(project.name))
    restarted: list[str] = []
    views = FastViews(paths, lambda name: True, restarted.append, lambda t, m: None)
    views.refresh_if_stale(view, 15)
    qtbot.waitUntil(lambda: restarted == ["View"], timeout=10_000)
    assert built == ["View"] and views.refreshing == set()
    views.refresh_if_stale(Project("Plain", str(tmp_path)), 15)  # not a fast view: nothing
    assert built == ["View"]
