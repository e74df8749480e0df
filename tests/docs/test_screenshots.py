"""The README's pictures come from docs/screenshots.py: its dialogs build here, offscreen, so a
module that moves or a dialog that changes its fields breaks this test, not the pictures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import make_controller, top_actions, write_config

pytestmark = pytest.mark.gui

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "screenshots.py"


def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("readme_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pictures_scenes_build(qtbot, paths: AppPaths, tmp_path: Path) -> None:
    script = load_script()
    store = tmp_path / "team" / "mlruns"
    store.mkdir(parents=True)
    write_config(paths, [Project("Team share", str(store))])
    controller = make_controller(paths, FakeFactory(), [])
    built = script.scenes(controller)
    assert set(built) == {"settings", "editor", "move-to"}
    for widget in built.values():
        qtbot.addWidget(widget)
    editor = built["editor"]
    assert editor.name_note.text(), "the editor shows its validation error in the picture"
    move = built["move-to"]
    assert move.windowTitle() == "Move Team share to…"
    assert move.start_button.isEnabled(), move.note.text()  # the move the picture starts
    assert not script.moving(move)  # not before Move is clicked
    assert callable(script.child) and callable(script.main) and callable(script.mid_move)


def test_the_update_offer_picture_has_an_offer(qtbot, paths: AppPaths, tmp_path: Path) -> None:
    """The offer is read from a folder feed by the launcher's own code: the menu then offers it."""
    script = load_script()
    controller = make_controller(paths, FakeFactory(), [])
    assert "Update to 0.2.0" not in top_actions(controller)
    assert script.offer_update(controller, tmp_path / "feed") == "0.2.0"
    assert "Update to 0.2.0" in top_actions(controller)


def test_the_200_projects_picture_renders(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "readme_many", SCRIPT.with_name("screenshot_many.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "many.png")
    monkeypatch.setenv("MLFLOW_LAUNCHER_HOME", str(tmp_path / "home"))
    assert module.main() == 0
    assert (tmp_path / "many.png").stat().st_size > 10_000
