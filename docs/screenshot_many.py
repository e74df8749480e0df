"""The README's picture of the tray menu with 200 projects.

    python docs/screenshot_many.py        # writes docs/tray-menu-200.png

Renders the real menu (``launcher.ui.tray.menu.populate`` with a real controller; two projects
"running" on stub servers, ten used recently) and its "All projects" and one group submenu
side by side, as they cascade on screen. Offscreen rendering (``QWidget.grab``), so it needs no
X server; the menu's look is the Fusion style's.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "tray-menu-200.png"


def main() -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["MLFLOW_LAUNCHER_HOME"] = tempfile.mkdtemp(prefix="demo-many-")
    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication, QMenu

    from launcher.model.config import Config, ConfigStore, Settings
    from launcher.model.paths import app_paths
    from launcher.model.project import Project
    from launcher.ui.tray.menu import ClickableSubmenus, populate
    from tests.ui.fakes import FakeFactory
    from tests.ui.helpers import make_controller

    teams = ("vision", "speech", "nlp", "tabular")
    projects = [
        Project(f"{teams[i % 4]}-{word}-{i:03d}", f"/mnt/ml/{teams[i % 4]}/p{i:03d}/mlruns")
        for i, word in enumerate(["baseline", "sweep", "ablation", "export"] * 45)
    ]
    projects += [Project(f"scratch-{i:02d}", f"/home/me/scratch{i}/runs.db") for i in range(20)]
    paths = app_paths()
    recent = [p.name for p in projects[3:13]]
    settings = Settings(last_project=recent[0], recent=recent, keep_warm=False)
    ConfigStore(paths).save(Config(projects=projects, settings=settings))
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    controller = make_controller(paths, FakeFactory(), [])
    for project in (projects[40], projects[77]):
        controller.start(project.name)
    end = time.monotonic() + 10
    running = [p.name for p in (projects[40], projects[77])]
    while time.monotonic() < end and any(controller.manager.url(name) is None for name in running):
        app.processEvents()
        time.sleep(0.02)
    menu = ClickableSubmenus()
    populate(menu, controller)
    everything = next(a.menu() for a in menu.actions() if a.objectName() == "all-projects")
    assert isinstance(everything, QMenu)
    group = next(a.menu() for a in everything.actions() if "speech" in a.objectName())
    assert isinstance(group, QMenu)
    group.aboutToShow.emit()
    shots = [m.grab() for m in (menu, everything, group)]
    width = sum(s.width() for s in shots) + 8 * (len(shots) + 1)
    height = max(s.height() for s in shots) + 16
    canvas = QPixmap(width, height)
    canvas.fill(QColor("#5b7189"))
    painter = QPainter(canvas)
    x = 8
    second = 8 + menu.actionGeometry(everything.menuAction()).top()
    offsets = [8, second, second + everything.actionGeometry(group.menuAction()).top()]
    for shot, y in zip(shots, offsets, strict=True):
        painter.drawPixmap(x, min(y, height - shot.height() - 8), shot)
        x += shot.width() + 8
    painter.end()
    canvas.save(str(OUT))
    controller.manager.stop_all(wait=True)
    print(f"wrote {OUT} ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
