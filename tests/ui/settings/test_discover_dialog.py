"""The "Add from folder…" dialog: scan real stores on a share, pick, rename, add; no freeze."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreKind
from launcher.server.stores.discovery import Discovery, Found, Progress
from launcher.ui.common.notes import level_and_text
from launcher.ui.settings.discover_dialog import DiscoverDialog
from launcher.ui.settings.found_stores import COL_NAME, COL_NOTE
from tests import naming_stores
from tests.ui.helpers import write_config

pytestmark = pytest.mark.gui


@pytest.fixture
def share(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return naming_stores.stores(tmp_path_factory.getbasetemp(), tmp_path / "copies")["share"]


def make(qtbot, paths: AppPaths, existing=None, **kwargs) -> DiscoverDialog:  # type: ignore[no-untyped-def]
    store = ConfigStore(paths)
    if existing is None:

        def existing() -> list[Project]:
            return store.load().config.projects

    dialog = DiscoverDialog(store.update, existing, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def scan(qtbot, dialog: DiscoverDialog, root: Path | str, depth: int | None = None) -> None:  # type: ignore[no-untyped-def]
    dialog.root_edit.setText(str(root))
    if depth is not None:
        dialog.depth_spin.setValue(depth)
    dialog.scan_button.click()
    qtbot.waitUntil(lambda: not dialog.scanning, timeout=20_000)


def table(dialog: DiscoverDialog, root: Path) -> dict[str, tuple[str, str, bool, str]]:
    """Store (relative to root) -> (name, kind, checkable and checked, note)."""
    out = {}
    for item in dialog.rows():
        enabled = bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
        checked = enabled and item.checkState(COL_NAME) == Qt.CheckState.Checked
        rel = str(Path(item.text(3)).relative_to(root))
        out[rel] = (item.text(COL_NAME), item.text(1), checked, item.text(COL_NOTE))
    return out


def row(dialog: DiscoverDialog, ending: str):  # type: ignore[no-untyped-def]
    for item in dialog.rows():
        if item.text(3).endswith(ending):
            return item
    raise AssertionError(ending)


def saved(paths: AppPaths) -> dict[str, str]:
    return {p.name: p.store for p in ConfigStore(paths).load().config.projects}


def test_scan_a_share_pick_rename_and_add(qtbot, paths: AppPaths, share: Path) -> None:
    dra = share / "ai" / "mlflow" / "dra" / "mlruns"
    write_config(paths, [Project("DRA local", str(dra))])
    dialog = make(qtbot, paths)
    scan(qtbot, dialog, share, depth=4)
    assert table(dialog, share) == {
        "ai/mlflow/dra/mlruns": ("DRA local", "folder", False, "already in the launcher"),
        "ai/mlflow/emitter/tracking.db": ("emitter", "sqlite", True, ""),
    }
    assert not row(dialog, "dra/mlruns").flags() & Qt.ItemFlag.ItemIsEnabled  # greyed
    level, summary = level_and_text(dialog.summary_note)
    assert level == "info" and "2 stores found (1 already in the launcher)" in summary
    assert "deeper folders were not searched" in summary
    # Deeper finds the legacy store too.
    scan(qtbot, dialog, share, depth=12)
    assert table(dialog, share)["ai/archive/old/deep/legacy/mlruns"] == (
        "legacy",
        "folder",
        True,
        "",
    )
    row(dialog, "legacy/mlruns").setCheckState(COL_NAME, Qt.CheckState.Unchecked)
    row(dialog, "tracking.db").setText(COL_NAME, "  Emitter team ")
    assert dialog.add_button.isEnabled()
    with qtbot.waitSignal(dialog.added, timeout=5000) as signal:
        dialog.add_button.click()
    assert signal.args == [["Emitter team"]]
    assert saved(paths) == {
        "DRA local": str(dra),
        "Emitter team": str(share / "ai" / "mlflow" / "emitter" / "tracking.db"),
    }
    assert table(dialog, share)["ai/mlflow/emitter/tracking.db"] == (
        "Emitter team",
        "sqlite",
        False,
        "added",
    )
    assert level_and_text(dialog.summary_note) == ("ok", "Added 1 project: Emitter team.")
    assert not dialog.add_button.isEnabled()  # legacy is unchecked, the rest are in


def test_duplicate_names_are_refused_inline_and_a_late_clash_gets_a_suffix(
    qtbot, paths: AppPaths, share: Path
) -> None:
    write_config(paths, [Project("Archive", "/elsewhere/mlruns")])
    dialog = make(qtbot, paths)
    scan(qtbot, dialog, share, depth=12)
    assert dialog.add_button.isEnabled()
    legacy, emitter = row(dialog, "legacy/mlruns"), row(dialog, "tracking.db")
    legacy.setText(COL_NAME, "archive")  # names are case-insensitive
    level, text = level_and_text(dialog.names_note)
    assert level == "error" and "already a project named “archive”" in text
    assert legacy.text(COL_NOTE) == "rename it" and not dialog.add_button.isEnabled()
    dialog.add_selected()  # even forced, nothing is written
    assert list(saved(paths)) == ["Archive"]
    legacy.setText(COL_NAME, "emitter")
    assert "chosen for two stores" in level_and_text(dialog.names_note)[1]
    legacy.setText(COL_NAME, "")
    assert level_and_text(dialog.names_note)[1] == "A project needs a name."
    legacy.setCheckState(COL_NAME, Qt.CheckState.Unchecked)  # an unchecked row does not count
    assert level_and_text(dialog.names_note) == ("", "") and dialog.add_button.isEnabled()
    legacy.setCheckState(COL_NAME, Qt.CheckState.Checked)
    legacy.setText(COL_NAME, "legacy")
    assert dialog.add_button.isEnabled()
    # The CLI adds a project named like a proposal while the dialog is open.
    ConfigStore(paths).update(lambda c: c.add(Project("Emitter", "/other/tracking.db")))
    dialog._existing = lambda: [Project("Archive", "/elsewhere/mlruns")]  # the dialog's old view
    dialog.add_button.click()
    assert saved(paths) == {
        "Archive": "/elsewhere/mlruns",
        "Emitter": "/other/tracking.db",  # never overwritten
        "emitter (2)": str(share / "ai" / "mlflow" / "emitter" / "tracking.db"),
        "dra": str(share / "ai" / "mlflow" / "dra" / "mlruns"),
        "legacy": str(share / "ai" / "archive" / "old" / "deep" / "legacy" / "mlruns"),
    }
    level, text = level_and_text(dialog.summary_note)
    assert level == "warning" and "“emitter” as “emitter (2)”" in text
    assert emitter.text(COL_NAME) == "emitter (2)"


def test_progress_shows_live_and_cancel_keeps_what_was_found(
    qtbot, paths: AppPaths, tmp_path: Path
) -> None:
    cancel_seen: list[threading.Event] = []

    def slow(root, depth, cancel, progress, existing=()):  # type: ignore[no-untyped-def]
        cancel_seen.append(cancel)
        n = 0
        while not cancel.is_set() and n < 2000:  # a share that takes ages
            n += 1
            progress(Progress(n, 1, f"{root}/team/folder{n}"))
            time.sleep(0.01)
        found = Found(StoreKind.FOLDER, f"{root}/team/mlruns", "team", 3)
        return Discovery(root, [found], scanned=n, cancelled=cancel.is_set())

    dialog = make(qtbot, paths, discover=slow)
    dialog.root_edit.setText(str(tmp_path))
    started = time.monotonic()
    dialog.scan_button.click()
    assert time.monotonic() - started < 0.5  # the walk is not in the click
    assert dialog.scanning and dialog.busy.isVisible()
    assert dialog.cancel_button.isEnabled() and not dialog.add_button.isEnabled()
    assert not dialog.depth_spin.isEnabled()
    qtbot.waitUntil(lambda: "folders searched, 1 store found" in dialog.progress_label.text())
    first = dialog.progress_label.text()
    assert f"{tmp_path}/team/folder" in first or "…" in first
    qtbot.waitUntil(lambda: dialog.progress_label.text() != first, timeout=3000)  # live
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.scanning, timeout=3000)
    assert cancel_seen[0].is_set()
    level, text = level_and_text(dialog.summary_note)
    assert level == "warning" and text.startswith("Cancelled: showing what was found so far")
    assert table(dialog, tmp_path) == {"team/mlruns": ("team", "folder", True, "")}
    assert not dialog.busy.isVisible() and dialog.add_button.isEnabled()
    # Closing during a scan stops the walk too.
    dialog.scan_button.click()
    qtbot.waitUntil(lambda: len(cancel_seen) == 2)
    dialog.reject()
    qtbot.waitUntil(lambda: cancel_seen[1].is_set(), timeout=2000)


def test_a_root_that_is_not_a_folder_is_reported(qtbot, paths: AppPaths, tmp_path: Path) -> None:
    dialog = make(qtbot, paths)
    assert not dialog.scan_button.isEnabled()  # nothing typed yet
    scan(qtbot, dialog, tmp_path / "missing")
    level, text = level_and_text(dialog.root_note)
    assert level == "error" and "is not a folder" in text
    assert dialog.rows() == [] and not dialog.add_button.isEnabled()
