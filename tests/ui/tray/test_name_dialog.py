"""The "New experiment name…" dialog on real stores: next number, live preview, errors, copy."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.ui.common.notes import level_and_text
from launcher.ui.tray.name_dialog import NameDialog, snippet_for, stages_in
from tests import naming_stores
from tests.naming_stores import PREFIX
from tests.ui.rest_stub import RestStub

pytestmark = pytest.mark.gui


@pytest.fixture
def named(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict[str, Path]:
    return naming_stores.stores(tmp_path_factory.getbasetemp(), tmp_path / "named")


def make(qtbot, project: Project, paths: AppPaths, **kwargs: object) -> NameDialog:  # type: ignore[no-untyped-def]
    dialog = NameDialog(project, paths, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def ready(qtbot, dialog: NameDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)


def calls(snippet: str) -> dict[str, list[object]]:
    """``mlflow.<fn>(literal)`` calls of a snippet, evaluated: it must be valid Python."""
    found: dict[str, list[object]] = {}
    for node in ast.walk(ast.parse(snippet)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "mlflow":
                found[node.func.attr] = [ast.literal_eval(a) for a in node.args]
    return found


@pytest.mark.parametrize("kind", ["folder", "sqlite"])
def test_proposes_the_next_number_from_the_store_and_copies(
    qtbot, kind: str, named: dict[str, Path], paths: AppPaths
) -> None:
    project = Project("DRA", str(named[kind]), prefix=PREFIX)
    dialog = make(qtbot, project, paths)
    ready(qtbot, dialog)
    assert level_and_text(dialog.status_note)[0] == "ok"
    # Stages seen in the store, most used first; the most used is picked.
    assert [dialog.stage_combo.itemText(i) for i in range(dialog.stage_combo.count())] == [
        "train",
        "eval",
        "prep",
    ]
    assert dialog.stage_combo.currentText() == "train"
    assert not dialog.copy_name_button.isEnabled()  # no description yet
    assert level_and_text(dialog.error_note) == ("info", "Type a short description.")
    qtbot.keyClicks(dialog.description_edit, "next try")
    # train: 001, 002, 004 and 005 (deleted, its name still reserved): 006, not the gap 003.
    assert dialog.preview.text() == "dra_train_006_next_try"
    assert level_and_text(dialog.error_note) == ("", "")
    dialog.stage_combo.setCurrentText("prep")
    assert dialog.preview.text() == "dra_prep_02_next_try"  # the width the stage uses
    dialog.stage_combo.setCurrentText("deploy")  # a new stage
    assert dialog.preview.text() == "dra_deploy_001_next_try"
    dialog.copy_name_button.click()
    assert QGuiApplication.clipboard().text() == "dra_deploy_001_next_try"
    dialog.copy_snippet_button.click()
    snippet = QGuiApplication.clipboard().text()
    used = calls(snippet)
    assert used["set_experiment"] == ["dra_deploy_001_next_try"]
    assert used["set_tracking_uri"] == [project.parsed_store().uri]


def test_reads_names_from_the_running_server_deleted_ones_included(
    qtbot, named: dict[str, Path], paths: AppPaths
) -> None:
    rest = RestStub.of_store(named["folder"])
    try:
        # The store path is wrong on purpose: with a server, the server is what is read.
        project = Project("DRA", "/nowhere/mlruns", prefix=PREFIX)
        dialog = make(qtbot, project, paths, base_url=rest.url)
        ready(qtbot, dialog)
        assert rest.requests >= 1
        dialog.description_edit.setText("from server")
        assert dialog.preview.text() == "dra_train_006_from_server"
    finally:
        rest.close()


def test_inline_errors_and_a_project_without_prefix(
    qtbot, named: dict[str, Path], paths: AppPaths
) -> None:
    dialog = make(qtbot, Project("Whole store", str(named["folder"])), paths)
    ready(qtbot, dialog)
    assert not dialog.prefix_edit.isReadOnly()
    assert dialog.stage_combo.count() == 0  # no prefix: no stages to parse
    dialog.stage_combo.setCurrentText("train")
    dialog.description_edit.setText("x")
    level, text = level_and_text(dialog.error_note)
    assert level == "error" and "no experiment prefix" in text and "'whole_store_'" in text
    assert dialog.preview.text() == "" and not dialog.copy_name_button.isEnabled()
    dialog.prefix_edit.setText("dra_")
    assert dialog.preview.text() == "dra_train_006_x"
    assert dialog.stage_combo.count() == 3  # stages parsed with the typed prefix
    dialog.stage_combo.setCurrentText("two words")
    level, text = level_and_text(dialog.error_note)
    assert level == "error" and "must be one word" in text
    assert not dialog.copy_name_button.isEnabled() and not dialog.copy_snippet_button.isEnabled()
    dialog.stage_combo.setCurrentText("eval")
    dialog.description_edit.setText("/// ???")
    assert level_and_text(dialog.error_note)[0] == "error"
    assert "empty once unsafe characters are removed" in level_and_text(dialog.error_note)[1]
    dialog.description_edit.setText('bigger "lr" / 2')
    assert dialog.preview.text() == "dra_eval_002_bigger_lr_2"
    assert level_and_text(dialog.error_note) == ("", "")
    assert dialog.copy_name_button.isEnabled()


def test_reading_runs_in_the_background_and_a_failure_can_be_retried(
    qtbot, paths: AppPaths, tmp_path: Path
) -> None:
    release = threading.Event()
    answers: list[object] = [OSError("share offline"), ["p_train_001_a", "p_train_007_b"]]

    def reader() -> list[str]:
        release.wait(10)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    started = time.monotonic()
    dialog = make(
        qtbot, Project("P", str(tmp_path / "mlruns"), prefix="p_"), paths, read_names=reader
    )
    assert time.monotonic() - started < 1.0
    dialog.stage_combo.setCurrentText("train")
    dialog.description_edit.setText("x")
    assert dialog.loading and dialog.preview.text() == ""
    assert level_and_text(dialog.status_note)[1].startswith("Reading the experiment names")
    assert not dialog.copy_name_button.isEnabled()
    release.set()
    ready(qtbot, dialog)
    level, text = level_and_text(dialog.status_note)
    assert level == "error" and "share offline" in text
    assert dialog.retry_button.isVisible()
    assert dialog.preview.text() == "" and not dialog.copy_name_button.isEnabled()
    dialog.retry_button.click()
    ready(qtbot, dialog)
    assert not dialog.retry_button.isVisible()
    assert dialog.preview.text() == "p_train_008_x"
    assert dialog.copy_name_button.isEnabled()


def test_stages_merge_case_and_snippet_names_the_experiment() -> None:
    names = ["p_Train_001_a", "p_train_002_b", "p_train_003_c", "p_eval_001_x", "p_x", "q_z_001_a"]
    assert stages_in(names, "p_") == ["train", "eval"]
    assert stages_in(names, "") == []
    project = Project("P", r"\\server\share\ai\mlflow\p\mlruns", prefix="p_")
    snippet = snippet_for(project, "p_it's_001_x", windows=True)
    assert calls(snippet)["set_experiment"] == ["p_it's_001_x"]
    assert calls(snippet)["set_tracking_uri"] == ["file://server/share/ai/mlflow/p/mlruns"]
    assert "my-experiment" not in snippet
