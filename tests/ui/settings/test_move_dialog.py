""" "Move to…": the dialog runs the real move (to a new SQLite file, or to a team database on a
real PostgreSQL) in a worker thread with progress, switches only a verified result, cancels
without leaving a file, names a refusal's cause and never shows the password; the tray and editor
offer it for folder and SQLite stores, and a fast view's submenu shows its view's age."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPlainTextEdit

from launcher.model import credentials
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.stores import fast_view, record_kinds
from launcher.ui.controller import Controller
from launcher.ui.settings.move_dialog import MoveDialog
from launcher.ui.settings.project_editor import ProjectEditor
from tests.server import postgres
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import action, make_controller, menu_entries, write_config

pytestmark = pytest.mark.gui


def _dialog(qtbot, paths: AppPaths, store: Path, switched: list) -> MoveDialog:  # type: ignore[no-untyped-def]
    dialog = MoveDialog(
        Project("team", str(store)), paths, lambda p, db, **how: switched.append((p.name, db))
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_once_the_copy_commits_it_cannot_be_cancelled_nor_its_window_closed(
    qtbot, paths: AppPaths, rich_store: Path
) -> None:
    """After the launcher's go-ahead to commit (the "commit" step) a cancel is refused
    (child_run), so the dialog does not offer one, and its window stays until it can say what
    was written."""
    from launcher.server.stores.move.child_run import Step

    dialog = _dialog(qtbot, paths, rich_store, [])
    dialog.running = True
    assert dialog.close_button.isEnabled()
    dialog._progress(Step("commit", 0, 0, "committing: too late to cancel"))
    assert not dialog.close_button.isEnabled() and "too late" in dialog.status.text()
    dialog.close()
    assert dialog.isVisible() and not dialog.cancel_event.is_set()
    dialog._finish()
    assert dialog.close_button.isEnabled() and dialog.close_button.text() == "Close"
    dialog.close()
    assert not dialog.isVisible()


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
    assert action(entries["Folder"], "move-to").isEnabled()
    assert action(entries["Db"], "move-to").text() == "Move to…", "SQLite moves to a database"
    age = action(entries["View"], "fast-view-age")
    assert age.text() == "Fast view: view of 10:32" and not age.isEnabled()
    action(entries["Folder"], "move-to").trigger()
    dialog = controller.windows["move:Folder"]
    assert isinstance(dialog, MoveDialog) and dialog.isVisible()
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


def test_a_sqlite_store_moves_to_a_database_only_and_the_fields_are_checked(
    qtbot, paths: AppPaths, tmp_path: Path
) -> None:
    local = tmp_path / "local.db"
    local.write_bytes(b"")
    write_config(paths, [Project("Local db", str(local))])
    controller = make_controller(paths, FakeFactory(), [])
    editor = ProjectEditor(controller, controller.config.get("Local db"))
    qtbot.addWidget(editor)
    assert not editor.move_button.isHidden() and editor.move_button.text() == "Move to…"
    editor.move_button.click()
    dialog = controller.windows["move:Local db"]
    assert isinstance(dialog, MoveDialog)
    assert dialog.to_database.isChecked() and not dialog.to_sqlite.isEnabled()
    assert "'Local db (sqlite)'" in dialog.switch_check.text()
    assert dialog.database.password_edit.echoMode() is QLineEdit.EchoMode.Password
    assert not dialog.start_button.isEnabled() and "database's URL" in dialog.note.text()
    dialog.database.url_edit.setText("sqlite:///elsewhere.db")
    assert "not a PostgreSQL or MySQL" in dialog.note.text()
    dialog.database.url_edit.setText("postgresql://me@db.example:5432/mlflow")
    assert "artifacts location" in dialog.note.text(), "nothing to pre-fill it with here"
    dialog.database.artifacts_edit.setText(str(tmp_path / "shared"))
    assert dialog.start_button.isEnabled() and "must be empty" in dialog.note.text()
    dialog.close()
    assert controller.manager.stop_all(wait=True)


# -- the team database, on a real PostgreSQL ---------------------------------------------------

PASSWORD = postgres.PASSWORD
needs_postgres = postgres.MARKS[1]


@pytest.fixture
def database() -> Iterator[str]:
    yield from postgres.scratch_database()


def _database_dialog(
    qtbot, paths: AppPaths, store: Path, url: str, password: str, artifacts: Path | None = None
) -> tuple[Controller, MoveDialog]:  # type: ignore[no-untyped-def]
    """The dialog as the editor opens it (the controller's real switch), the database target
    filled in: the URL without the password, the password in its own field; the artifacts
    pre-filled with where they are (``artifacts``, by default the folder store)."""
    write_config(paths, [Project("team", str(store))])
    controller = make_controller(paths, FakeFactory(), [])
    controller.move_to("team")
    dialog = controller.windows["move:team"]
    assert isinstance(dialog, MoveDialog)
    dialog.to_database.setChecked(True)
    where = artifacts or store
    assert dialog.database.artifacts_edit.text() == str(where), "pre-filled: where they are"
    dialog.database.url_edit.setText(url.replace(f":{PASSWORD}@", "@"))
    dialog.database.password_edit.setText(password)
    assert dialog.start_button.isEnabled(), dialog.note.text()
    return controller, dialog


def _shown(dialog: MoveDialog) -> str:
    """Every text the dialog shows (the password field excepted: it echoes nothing)."""
    texts = [dialog.windowTitle(), dialog.report.toPlainText()]
    texts += [w.text() for w in dialog.findChildren(QLabel)]
    texts += [w.text() for w in dialog.findChildren(QAbstractButton)]
    texts += [w.toPlainText() for w in dialog.findChildren(QPlainTextEdit)]
    texts += [
        w.text() for w in dialog.findChildren(QLineEdit) if w is not dialog.database.password_edit
    ]
    texts += [w.toolTip() for w in dialog.findChildren(QLabel)]
    return "\n".join(texts)


@needs_postgres
@pytest.mark.process
def test_a_folder_store_moves_to_a_team_database_and_switches(
    qtbot, paths: AppPaths, rich_store: Path, database: str, keyring_file: Path
) -> None:
    controller, dialog = _database_dialog(qtbot, paths, rich_store, database, PASSWORD)
    dialog.start_button.click()
    assert dialog.running and not dialog.database.password_edit.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=300_000)
    report = dialog.report.toPlainText()
    assert dialog.outcome is not None and dialog.outcome.ok, report
    assert dialog.status.text() == "Done: verified."
    assert record_kinds.describe(dialog.outcome.counts()) in report  # type: ignore[union-attr]
    assert "8 runs" in report and "4 experiments" in report, report
    assert postgres.table_rows(database)["runs"] == 8
    config_text = ConfigStore(paths).path.read_text(encoding="utf-8")
    config = ConfigStore(paths).load().config
    switched = config.get("team")
    assert switched.store == database.replace(f":{PASSWORD}@", "@"), "no password in the URL"
    assert switched.artifacts == str(rich_store)
    assert config.get("team (folder)").store == str(rich_store)
    assert (
        f":{PASSWORD}@" not in config_text and credentials.password_for(switched.store) == PASSWORD
    )
    assert f":{PASSWORD}@" not in _shown(dialog) and dialog.database.password_edit.text() == ""
    dialog.close()
    assert controller.manager.stop_all(wait=True)


@pytest.mark.parametrize(
    ("change", "password", "words"),
    [(lambda url: url, "wrong-secret", "refused the user name or the password"),
     (lambda url: url.replace("@127.0.0.1:5432/", "@127.0.0.1:1/"), PASSWORD,
      "could not be reached")],
    ids=["wrong-password", "unreachable-host"],
)  # fmt: skip
@needs_postgres
@pytest.mark.process
def test_a_refused_connection_is_named_and_changes_nothing(
    qtbot,
    paths: AppPaths,
    rich_store: Path,
    database: str,
    change,
    password: str,
    words: str,  # type: ignore[no-untyped-def]
) -> None:
    controller, dialog = _database_dialog(qtbot, paths, rich_store, change(database), password)
    before = ConfigStore(paths).path.read_bytes()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=240_000)
    assert words in dialog.status.text() and "Nothing was changed" in dialog.status.text(), (
        dialog.status.text(), dialog.report.toPlainText())  # fmt: skip
    assert dialog.outcome is None and ConfigStore(paths).path.read_bytes() == before
    assert postgres.table_rows(database) == {}
    assert "wrong-secret" not in _shown(dialog) and f":{PASSWORD}@" not in _shown(dialog)
    assert dialog.start_button.isEnabled(), "the user can correct it and try again"
    dialog.close()
    assert controller.manager.stop_all(wait=True)


@needs_postgres
@pytest.mark.process
def test_cancel_of_a_move_to_a_team_database_commits_nothing(
    qtbot, paths: AppPaths, rich_store: Path, database: str
) -> None:
    controller, dialog = _database_dialog(qtbot, paths, rich_store, database, PASSWORD)
    before = ConfigStore(paths).path.read_bytes()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not dialog.status.text().startswith("Starting"), timeout=120_000)
    dialog.close_button.click()  # Cancel while it runs
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.status.text() == "Cancelled.", dialog.report.toPlainText()
    assert dialog.report.toPlainText().startswith("Cancelled;")
    assert postgres.table_rows(database) == {} and ConfigStore(paths).path.read_bytes() == before
    assert not [p for p in (paths.data_dir / "stores").rglob("*") if p.is_file()]
    dialog.close()
    assert controller.manager.stop_all(wait=True)


@needs_postgres
@pytest.mark.process
def test_a_sqlite_store_moves_to_a_team_database_and_switches(
    qtbot, paths: AppPaths, rich_sqlite_template: Path, tmp_path: Path, database: str,
    keyring_file: Path,
) -> None:  # fmt: skip
    source = tmp_path / "local.db"
    source.write_bytes(rich_sqlite_template.read_bytes())
    artifacts = rich_sqlite_template.parent / "mlruns"
    controller, dialog = _database_dialog(qtbot, paths, source, database, PASSWORD, artifacts)
    assert not dialog.to_sqlite.isEnabled() and dialog.to_database.isChecked()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=240_000)
    report = dialog.report.toPlainText()
    assert dialog.outcome is not None and dialog.outcome.ok, report
    conn = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
    try:
        expected = record_kinds.sqlite_counts(conn)
    finally:
        conn.close()
    assert record_kinds.describe(expected) in report and postgres.table_rows(database)["runs"] == 8
    config = ConfigStore(paths).load().config
    assert config.get("team").store == database.replace(f":{PASSWORD}@", "@")
    assert config.get("team (sqlite)").store == str(source)
    assert config.get("team").artifacts == str(artifacts)
    assert f":{PASSWORD}@" not in ConfigStore(paths).path.read_text(encoding="utf-8")
    assert f":{PASSWORD}@" not in _shown(dialog)
    dialog.close()
    assert controller.manager.stop_all(wait=True)


@pytest.mark.process
def test_a_store_moves_as_a_workspace_beside_another_and_switches_to_it(
    qtbot, paths: AppPaths, rich_store: Path, folder_store: Path, tmp_path: Path
) -> None:
    """ "As workspace": gather of one project from the dialog, into a database that already
    holds another workspace (here a SQLite file, which only a workspace move accepts)."""
    from launcher.server.stores import workspaces
    from launcher.server.stores.move import gather

    target = "sqlite:///" + (tmp_path / "team.db").as_posix()
    assert gather.gather(
        gather.plan([Project("older", str(folder_store))], paths, target), paths
    ).ok
    calls: list = []
    dialog = MoveDialog(
        Project("team", str(rich_store)), paths, lambda p, db, **how: calls.append((db, how))
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.to_database.setChecked(True)
    dialog.database.url_edit.setText(target)
    assert not dialog.start_button.isEnabled()  # a SQLite file: only as a workspace
    dialog.database.workspace_edit.setText("Bad_Name")
    assert "lowercase" in dialog.note.text() and not dialog.start_button.isEnabled()
    dialog.database.workspace_edit.setText("older")  # taken: refused by the copy, by name
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=240_000)
    assert dialog.status.text().startswith("Refused: The database already has a workspace")
    dialog.database.workspace_edit.setText("vision")
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=240_000)
    assert dialog.outcome is not None and dialog.outcome.ok, dialog.report.toPlainText()
    assert calls and calls[-1][0] == target and calls[-1][1]["workspace"] == "vision"
    assert workspaces.of_store(target) == ["older", "vision"]
