"""The settings dialog and the project editor: add, edit, validate, remove, reorder, save."""

from __future__ import annotations

import re
import sys
import threading
import time
import types
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.python.interpreters import Interpreter
from launcher.ui.controller import Controller
from launcher.ui.settings import python_picker
from launcher.ui.settings.project_editor import ProjectEditor
from launcher.ui.settings.settings_dialog import SettingsDialog
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import FakeAutostart, make_controller, write_config

pytestmark = pytest.mark.gui


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def autostart() -> FakeAutostart:
    return FakeAutostart()


@pytest.fixture
def controller(qtbot, paths: AppPaths, factory, autostart, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "alpha" / "mlruns").mkdir(parents=True)
    write_config(
        paths,
        [Project("Alpha", str(tmp_path / "alpha" / "mlruns")),
         Project("Beta", str(tmp_path / "beta.db"), prefix="b_")],
    )  # fmt: skip
    ctl = make_controller(paths, factory, [], autostart)
    yield ctl
    assert ctl.manager.stop_all(wait=True)


@pytest.fixture
def dialog(qtbot, controller: Controller) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dlg = SettingsDialog(controller)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def saved(controller: Controller) -> list[Project]:
    return ConfigStore(controller.paths).load().config.projects


def rows(dialog: SettingsDialog) -> list[list[str]]:
    table = dialog.table
    return [
        [table.topLevelItem(i).text(c) for c in range(3)]  # type: ignore[union-attr]
        for i in range(table.topLevelItemCount())
    ]


def select(dialog: SettingsDialog, name: str) -> None:
    for i in range(dialog.table.topLevelItemCount()):
        item = dialog.table.topLevelItem(i)
        if item is not None and item.text(0) == name:
            dialog.table.setCurrentItem(item)
            return
    raise AssertionError(name)


def note(label) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return (label.property("level") or "", label.text() if label.isVisible() else "")


def test_the_list_shows_name_store_and_state(qtbot, dialog, controller, tmp_path) -> None:
    assert rows(dialog) == [
        ["Alpha", str(tmp_path / "alpha" / "mlruns"), "stopped"],
        ["Beta", str(tmp_path / "beta.db"), "stopped"],
    ]
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start("Alpha")
    qtbot.waitUntil(lambda: rows(dialog)[0][2].startswith("running on port"), timeout=3000)


def test_add_a_project_with_inline_validation(qtbot, dialog, controller, tmp_path) -> None:
    dialog.buttons["add"].click()
    editor = dialog.editor
    assert isinstance(editor, ProjectEditor) and editor.isVisible()
    editor.name_edit.setText("alpha")  # names are case-insensitive
    assert note(editor.name_note) == ("error", "There is already a project named 'Alpha'.")
    editor.name_edit.setText("Team share")
    assert note(editor.name_note) == ("", "")
    editor.store_edit.setText("ftp://server/mlruns")
    assert note(editor.store_note)[0] == "error"
    assert "Unknown scheme 'ftp:'" in note(editor.store_note)[1]
    assert not editor.save_button.isEnabled()
    editor.store_edit.setText("relative/mlruns")
    assert "relative path" in note(editor.store_note)[1]
    missing = tmp_path / "nowhere" / "mlruns"
    editor.store_edit.setText(str(missing))
    assert editor.save_button.isEnabled()  # a missing store is a warning, not an error
    qtbot.waitUntil(lambda: note(editor.store_note)[0] == "warning", timeout=5000)
    assert "does not exist" in note(editor.store_note)[1]
    store = tmp_path / "team" / "mlruns"
    store.mkdir(parents=True)
    editor.store_edit.setText(str(store))
    qtbot.waitUntil(lambda: note(editor.store_note)[0] == "ok", timeout=5000)
    assert note(editor.store_note)[1] == f"folder store (mlruns): {store}"
    editor.prefix_edit.setText("dra_")
    editor.args_edit.setText('--static-prefix "/ml flow')
    assert note(editor.args_note) == ("error", 'A " quote is not closed.')
    assert not editor.save_button.isEnabled()
    editor.args_edit.setText('--static-prefix "/ml flow"')
    editor.save_button.click()
    assert not editor.isVisible()
    added = saved(controller)[-1]
    assert added == Project(
        "Team share", str(store), prefix="dra_", extra_args=["--static-prefix", "/ml flow"]
    )
    assert rows(dialog)[-1][:2] == ["Team share", str(store)]


def test_errors_wait_until_a_field_is_touched_or_save_is_pressed(qtbot, dialog) -> None:
    dialog.buttons["add"].click()
    editor = dialog.editor
    assert isinstance(editor, ProjectEditor)
    # Nothing typed yet: nothing is wrong yet, as far as the user is told.
    assert note(editor.name_note) == ("", "") and note(editor.store_note) == ("", "")
    assert editor.save_button.isEnabled() and not editor.check_button.isEnabled()
    editor.save_button.click()  # pressing Save says what is missing, and saves nothing
    assert editor.isVisible()
    assert note(editor.name_note) == ("error", "A project needs a name.")
    assert note(editor.store_note)[0] == "error" and "empty" in note(editor.store_note)[1]
    assert not editor.save_button.isEnabled()
    assert editor.name_edit.hasFocus() or not editor.isActiveWindow()


def test_a_touched_field_says_its_error_and_the_others_wait(qtbot, dialog) -> None:
    dialog.buttons["add"].click()
    editor = dialog.editor
    assert isinstance(editor, ProjectEditor)
    editor.name_edit.setText("x")
    editor.name_edit.setText("")  # typed, then erased
    assert note(editor.name_note) == ("error", "A project needs a name.")
    assert note(editor.store_note) == ("", "")  # the store was never touched
    assert not editor.save_button.isEnabled()


def test_notes_coming_and_going_do_not_move_the_rows(qtbot, dialog, tmp_path) -> None:
    dialog.buttons["add"].click()
    editor = dialog.editor
    assert isinstance(editor, ProjectEditor)
    qtbot.waitExposed(editor)

    def rows_at() -> list[int]:
        widgets = (editor.store_edit, editor.prefix_edit, editor.args_edit, editor.port_spin)
        return [w.mapTo(editor, w.rect().topLeft()).y() for w in widgets]

    before = rows_at()
    editor.name_edit.setText("x")
    editor.name_edit.setText("")
    editor.args_edit.setText('"unclosed')
    qtbot.wait(50)  # let the layout settle
    assert note(editor.name_note)[0] == "error" and note(editor.args_note)[0] == "error"
    assert rows_at() == before
    editor.name_edit.setText("fine")
    editor.args_edit.setText("")
    qtbot.wait(50)
    assert rows_at() == before


def test_edit_renames_and_keeps_the_position(qtbot, dialog, controller, tmp_path) -> None:
    select(dialog, "Alpha")
    dialog.buttons["edit"].click()
    editor = dialog.editor
    assert editor is not None and editor.name_edit.text() == "Alpha"
    assert editor.save_button.isEnabled()  # its own name is no duplicate
    editor.name_edit.setText("Alpha 2")
    editor.port_spin.setValue(5123)
    editor.save_button.click()
    projects = saved(controller)
    assert [p.name for p in projects] == ["Alpha 2", "Beta"]
    assert projects[0].port == 5123 and projects[0].store == str(tmp_path / "alpha" / "mlruns")


def test_rename_to_an_existing_name_is_refused(qtbot, dialog) -> None:
    select(dialog, "Beta")
    dialog.buttons["edit"].click()
    editor = dialog.editor
    assert editor is not None
    editor.name_edit.setText("ALPHA")
    assert note(editor.name_note)[0] == "error"
    assert not editor.save_button.isEnabled()
    editor.save()  # even forced, nothing is written
    assert editor.isVisible()


def test_a_running_project_says_changes_apply_at_restart(qtbot, dialog, controller) -> None:
    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start("Alpha")
    select(dialog, "Alpha")
    dialog.buttons["edit"].click()
    assert dialog.editor is not None and dialog.editor.running_note.isVisible()


def test_duplicate_opens_a_prefilled_new_project(qtbot, dialog, controller) -> None:
    select(dialog, "Beta")
    dialog.buttons["duplicate"].click()
    editor = dialog.editor
    assert editor is not None
    assert editor.name_edit.text() == "Beta (copy)"
    assert editor.prefix_edit.text() == "b_"
    editor.save_button.click()
    assert [p.name for p in saved(controller)] == ["Alpha", "Beta", "Beta (copy)"]


def test_remove_asks_first_and_no_keeps_the_project(qtbot, dialog, controller, monkeypatch) -> None:
    asked: list[tuple] = []

    def answer(result):  # type: ignore[no-untyped-def]
        def question(*args):  # type: ignore[no-untyped-def]
            asked.append(args)
            return result

        return question

    select(dialog, "Alpha")
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    dialog.buttons["remove"].click()
    assert [p.name for p in saved(controller)] == ["Alpha", "Beta"]
    assert asked[0][-1] == QMessageBox.StandardButton.No  # the default
    assert "no experiment or run is deleted" in asked[0][2]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    dialog.buttons["remove"].click()
    assert [p.name for p in saved(controller)] == ["Beta"]
    assert [r[0] for r in rows(dialog)] == ["Beta"]


def test_removing_a_running_project_stops_its_server(
    qtbot, dialog, controller, factory, monkeypatch
) -> None:
    from tests.ui.fakes import alive

    with qtbot.waitSignal(controller.manager.ready, timeout=5000):
        controller.start("Alpha")
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    select(dialog, "Alpha")
    dialog.buttons["remove"].click()
    qtbot.waitUntil(lambda: alive(factory.all_pids()) == [], timeout=5000)
    assert "Alpha" not in controller.manager.names()


def test_reorder(qtbot, dialog, controller) -> None:
    select(dialog, "Beta")
    assert not dialog.buttons["down"].isEnabled()
    dialog.buttons["up"].click()
    assert [p.name for p in saved(controller)] == ["Beta", "Alpha"]
    assert dialog.selected_name() == "Beta"
    assert not dialog.buttons["up"].isEnabled()
    dialog.buttons["down"].click()
    assert [p.name for p in saved(controller)] == ["Alpha", "Beta"]


def test_general_options_are_saved_and_applied(qtbot, dialog, controller, autostart) -> None:
    dialog.open_browser.setChecked(False)
    dialog.policy.setCurrentIndex(dialog.policy.findData("stop"))
    settings = ConfigStore(controller.paths).load().config.settings
    assert (settings.open_browser, settings.switch_policy) == (False, "stop")
    assert controller.manager.policy == "stop" and controller.manager.open_browser is False
    assert not dialog.idle.isEnabled()  # idle stop belongs to the 'keep' policy
    dialog.policy.setCurrentIndex(dialog.policy.findData("keep"))
    dialog.idle.setValue(5)
    assert ConfigStore(controller.paths).load().config.settings.idle_stop_minutes == 5
    assert controller.manager.idle_minutes == 5
    dialog.login.setChecked(True)
    assert autostart.calls == [True]
    assert ConfigStore(controller.paths).load().config.settings.start_at_login is True
    assert not dialog.telemetry.isChecked()  # MLflow's telemetry: off unless chosen
    dialog.telemetry.setChecked(True)
    assert ConfigStore(controller.paths).load().config.settings.share_usage_data is True
    dialog.telemetry.setChecked(False)
    assert ConfigStore(controller.paths).load().config.settings.share_usage_data is False


def test_check_runs_the_doctor_without_freezing_the_dialog(
    qtbot, dialog, controller, monkeypatch
) -> None:
    """A doctor that takes a second (a slow share) must leave the event loop running."""
    calls: list[tuple[str, str]] = []

    class Finding:
        def __init__(self, level: str, topic: str, text: str) -> None:
            self.level, self.topic, self.text = level, topic, text

    class Report:
        def __init__(self) -> None:
            self.ok = False
            self.findings = [
                Finding("ok", "store", "folder store, 2 experiments"),
                Finding("error", "schema", "older than MLflow 3.17"),
            ]

        def format(self) -> str:
            return "formatted"

    def diagnose(project: Project, paths: AppPaths) -> Report:
        calls.append((project.name, threading.current_thread().name))
        time.sleep(1.0)
        return Report()

    fake = types.ModuleType("launcher.server.checks.doctor")
    fake.diagnose = diagnose  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "launcher.server.checks.doctor", fake)
    import launcher.server.checks

    monkeypatch.setattr(launcher.server.checks, "doctor", fake, raising=False)
    select(dialog, "Alpha")
    dialog.buttons["edit"].click()
    editor = dialog.editor
    assert editor is not None
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    started = time.monotonic()
    editor.check_button.click()
    assert time.monotonic() - started < 0.3  # click returned at once
    assert editor.check_button.text() == "Checking…" and not editor.check_button.isEnabled()
    qtbot.waitUntil(lambda: "Problems found." in editor.findings.toPlainText(), timeout=5000)
    timer.stop()
    assert len(ticks) >= 10  # the GUI thread kept running during the 1 s check
    assert calls == [("Alpha", "doctor")]
    assert "✔ store: folder store, 2 experiments" in editor.findings.toPlainText()
    assert "✖ schema: older than MLflow 3.17" in editor.findings.toPlainText()
    assert editor.check_button.isEnabled() and editor.check_button.text() == "Check"


@pytest.mark.process
def test_check_with_the_real_doctor(qtbot, controller, folder_store: Path) -> None:
    editor = ProjectEditor(controller, Project("Real", str(folder_store)), is_new=True)
    qtbot.addWidget(editor)
    editor.check_button.click()
    qtbot.waitUntil(lambda: editor.check_button.text() == "Check", timeout=60_000)
    text = editor.findings.toPlainText()
    assert text.startswith("All good."), text
    assert re.search(r"^✔ experiments: [56] active$", text, re.M), text  # 5 + 'Default'
    assert "⚠ schema: folder stores are in maintenance mode" in text
    editor.store_edit.setText(str(folder_store.parent / "nowhere"))
    editor.check_button.click()
    qtbot.waitUntil(lambda: editor.check_button.text() == "Check", timeout=60_000)
    assert "✖ reachable:" in editor.findings.toPlainText()


def test_edit_from_the_tray_saves_through_the_controller(qtbot, controller) -> None:
    controller.edit_project("Beta")
    editor = controller.windows["edit:Beta"]
    assert isinstance(editor, ProjectEditor)
    editor.prefix_edit.setText("beta_")
    editor.save_button.click()
    assert saved(controller)[1].prefix == "beta_"


def test_python_picker_lists_found_interpreters_and_keeps_the_choice(
    qtbot, controller, monkeypatch
) -> None:
    found = [
        Interpreter("", "launcher", "3.17.2"),
        Interpreter("/opt/conda/envs/ml/bin/python", "conda", "3.1.0"),
    ]
    monkeypatch.setattr(python_picker, "_interpreters", None)
    monkeypatch.setattr(python_picker, "_discover", lambda: found)
    beta = controller.find("Beta")
    assert beta is not None
    editor = ProjectEditor(controller, beta)
    qtbot.addWidget(editor)
    assert editor.python_value() == ""  # the launcher's own
    qtbot.waitUntil(lambda: editor.python_combo.count() == 2, timeout=5000)
    assert editor.python_combo.itemText(1) == "/opt/conda/envs/ml/bin/python  (MLflow 3.1.0, conda)"
    editor.python_combo.setCurrentIndex(1)
    assert editor.python_value() == "/opt/conda/envs/ml/bin/python"
    editor.python_combo.setEditText("/somewhere/else/python")
    assert editor.python_value() == "/somewhere/else/python"
    assert python_picker._interpreters == found  # the next editor reuses the list


def test_the_editor_turns_the_access_key_off_and_says_when_a_server_is_unprotected(
    qtbot, controller
) -> None:
    controller.edit_project("Beta")
    editor = controller.windows["edit:Beta"]
    assert isinstance(editor, ProjectEditor)
    assert editor.access_check.isChecked() and note(editor.access_note) == ("", "")
    editor.args_edit.setText("--uvicorn-opts '--timeout-keep-alive 7'")
    assert note(editor.access_note)[0] == "warning"
    assert "mlflow server" in note(editor.access_note)[1]
    editor.args_edit.setText("")
    editor.store_edit.setText("http://tracking.example:5000")
    assert "remote tracking server" in editor.access_note.text()
    editor.store_edit.setText("/data/beta.db")
    editor.access_check.setChecked(False)
    assert "turned off" in editor.access_note.text()
    editor.save_button.click()
    assert saved(controller)[1].access_key is False


def test_the_editor_asks_where_a_team_databases_artifacts_go(qtbot, controller, tmp_path) -> None:
    controller.edit_project("Beta")  # a SQLite file outside the launcher's data folder
    editor = controller.windows["edit:Beta"]
    assert isinstance(editor, ProjectEditor)
    level, text = note(editor.artifacts_note)
    assert level == "warning" and "on this PC only" in text
    shared = str(tmp_path / "share" / "artifacts")
    editor.artifacts_edit.setText(shared)
    assert note(editor.artifacts_note) == ("", "")
    editor.save_button.click()
    assert saved(controller)[1].artifacts == shared


def test_fast_view_is_a_checkbox_for_folder_stores(qtbot, dialog, controller) -> None:
    select(dialog, "Beta")  # a SQLite store: fast already, so the option is refused
    dialog.buttons["edit"].click()
    editor = dialog.editor
    assert editor is not None
    editor.fast_view_check.setChecked(True)
    assert note(editor.general_note)[0] == "error" and not editor.save_button.isEnabled()
    editor.reject()
    select(dialog, "Alpha")
    dialog.buttons["edit"].click()
    editor = dialog.editor
    assert editor is not None
    editor.fast_view_check.setChecked(True)
    editor.save_button.click()
    assert [p.fast_view for p in saved(controller)] == [True, False]


def test_fast_view_refresh_age_is_a_setting(qtbot, dialog, controller) -> None:
    assert dialog.view_refresh.value() == 15
    dialog.view_refresh.setValue(60)
    assert ConfigStore(controller.paths).load().config.settings.view_refresh_minutes == 60
