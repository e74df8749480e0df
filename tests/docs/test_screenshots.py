"""The README's pictures come from docs/screenshots.py: its dialogs build here, offscreen, so a
module that moves or a dialog that changes its fields breaks this test, not the pictures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import make_controller, write_config

pytestmark = pytest.mark.gui

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "screenshots.py"


def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("readme_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pictures_scenes_build(qtbot, paths: AppPaths) -> None:
    script = load_script()
    write_config(paths, [Project("Team share", "/srv/team/mlruns")])
    controller = make_controller(paths, FakeFactory(), [])
    built = script.scenes(controller)
    assert set(built) == {"settings", "editor"}
    for widget in built.values():
        qtbot.addWidget(widget)
    editor = built["editor"]
    assert editor.name_note.text(), "the editor shows its validation error in the picture"
    assert (
        "Team share" in controller.config.names() if hasattr(controller.config, "names") else True
    )
    assert callable(script.child) and callable(script.main)


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
