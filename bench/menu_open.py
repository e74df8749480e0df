"""Time from a click to the tray menu shown, with 200 projects, under Xvfb (platform xcb).

    python bench/menu_open.py [--runs 15]

A click on the tray icon makes Qt pop its context menu up: ``aboutToShow`` rebuilds it from
live state (config re-read, server states), then it is laid out and painted. This times exactly
that in the app's own code: from ``popup()`` to the menu's first paint, with a real controller
(servers are not started) and a config of 200 projects on shared store roots. Side by side in
one run: the grouped menu with 200 projects, the same 200 in the old flat layout (all entries
at the top level: six screen-wide columns), and 10 projects.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.app import xsession  # noqa: E402

CHILD = r"""
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtWidgets import QApplication
from launcher.model import menu_layout
from launcher.model.config import ConfigStore
from launcher.model.paths import app_paths
from launcher.server.manager import ServerManager
from launcher.ui.tray import menu as menu_mod
from launcher.ui.controller import Controller

runs, flat = int(sys.argv[1]), sys.argv[2] == "flat"
if flat:
    menu_mod.FLAT_LIMIT = 10**6
app = QApplication([])
paths = app_paths()
controller = Controller(paths, ConfigStore(paths), ServerManager(paths))
menu = menu_mod.ClickableSubmenus()
menu.aboutToShow.connect(lambda: menu_mod.populate(menu, controller))
painted = []

class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not painted:
            painted.append(time.perf_counter())
        return False

watch = Watch()
menu.installEventFilter(watch)
times = []
for _ in range(runs + 1):
    painted.clear()
    started = time.perf_counter()
    menu.popup(QPoint(1000, 40))
    deadline = time.perf_counter() + 10
    while not painted and time.perf_counter() < deadline:
        app.processEvents()
    if not painted:
        raise SystemExit("the menu was never painted")
    times.append(painted[0] - started)
    size = menu.sizeHint()
    menu.hide()
    app.processEvents()
print(json.dumps({"times": times[1:], "height": size.height(), "width": size.width(),
                  "screen": app.primaryScreen().availableGeometry().height()}))
"""


def make_home(root: Path, count: int) -> Path:
    home = root / f"home-{count}"
    (home / "config").mkdir(parents=True)
    projects = []
    for i in range(count):
        share = ("vision", "nlp", "speech", "tabular")[i % 4]
        projects.append({"name": f"{share}-{i:03d}", "store": f"/srv/ml/{share}/p{i:03d}/mlruns"})
    recent = [p["name"] for p in projects[:10]]
    config = {"schema": 1, "settings": {"recent": recent}, "catalogs": [], "projects": projects}
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return home


def measure(env: dict[str, str], home: Path, runs: int, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(runs), mode],
        env=dict(env, MLFLOW_LAUNCHER_HOME=str(home), PYTHONPATH=str(REPO)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    missing = xsession.available(tray=False)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        if missing is None:
            env = stack.enter_context(xsession.XSession(tray=False)).env
            where = "Xvfb (platform xcb)"
        else:
            env, where = dict(os.environ, QT_QPA_PLATFORM="offscreen"), f"offscreen ({missing})"
        root = Path(tmp)
        cases = [
            ("200 projects, grouped", make_home(root, 200), "grouped"),
            ("200 projects, old flat menu", root / "home-200", "flat"),
            ("10 projects", make_home(root, 10), "grouped"),
        ]
        results = [(label, measure(env, home, args.runs, mode)) for label, home, mode in cases]
    print(f"Tray menu, popup() to first paint, median of {args.runs}; {where}")
    for label, r in results:
        median = statistics.median(r["times"]) * 1000
        print(f"  {label:28s} {median:6.1f} ms   menu {r['width']}x{r['height']} px "
              f"(screen height {r['screen']} px)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
