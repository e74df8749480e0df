"""Take the README's screenshots under Xvfb with a real tray host and real MLflow servers.

    python docs/screenshots.py

writes docs/tray-menu.png (the menu with a project's submenu, one project failed),
docs/active-runs.png (the runs being trained), docs/update-offer.png (the menu offering a newer
version), docs/run-notification.png (one of them ended), docs/failure-notification.png (a
project whose share is gone), docs/settings.png, docs/editor.png (the project editor showing a
validation error) and docs/move-to.png (the "Move to…" dialog halfway through a real move to
SQLite). Needs Debian's xvfb, trayer, xdotool, x11-utils and imagemagick. Runs itself again as a
child inside the throwaway X session; the child starts the launcher's tray in-process with a
few projects (two served for real, one failing with its named cause), right-clicks the tray
icon, hovers a project, and takes the pictures with ImageMagick's ``import``. The dialogs are
built by :func:`scenes` and the offer by :func:`offer_update`, which tests/docs/test_screenshots.py
runs offscreen, so a module that moves breaks a test, not the pictures.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OUT = REPO / "docs"


def main() -> int:
    from tests.app import xsession

    missing = xsession.available(tray=True)
    if missing:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 1
    demo = Path(tempfile.gettempdir()) / "demo"  # short paths read better in the pictures
    shutil.rmtree(demo, ignore_errors=True)
    try:
        with xsession.XSession(tray=True, size="1280x800") as x:
            env = dict(x.env, MLFLOW_LAUNCHER_HOME=str(demo / "launcher"), PYTHONPATH=str(REPO),
                       XDG_CONFIG_HOME=str(demo / "xdg"))  # fmt: skip
            return subprocess.run([sys.executable, __file__, "--child", str(demo)], env=env,
                                  cwd=REPO, check=False, timeout=600).returncode  # fmt: skip
    finally:
        shutil.rmtree(demo, ignore_errors=True)


def child(tmp: Path) -> int:
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

    from launcher.app.autostart import XdgAutostart
    from launcher.model.config import Config, ConfigStore, Settings
    from launcher.model.paths import app_paths
    from launcher.model.project import Project
    from launcher.ui.tray.tray_app import TrayApp

    store = tmp / "share" / "team" / "mlruns"
    subprocess.run([sys.executable, str(REPO / "tests" / "stores.py"), "folder", str(store),
                    "dra_train_001_baseline", "dra_eval_001_holdout", "notes"],
                   check=True, capture_output=True)  # fmt: skip
    history(store, "dra_train_000_grid", 300)  # what the Move to… picture moves
    runs = [training(store, name) for name in ("sweep-lr-0.01", "sweep-lr-0.03")]
    paths = app_paths()
    projects = [
        Project("Local", str(paths.default_store)),
        Project("Team share", str(store), prefix="dra_", watch_runs=True),
        Project("DRA emitter classification", "/mnt/iserver/UserDev/ai/mlflow/dra/mlruns"),
        Project("Shared Postgres", "postgresql://mlflow@db.example/mlflow"),
        Project("Remote tracking", "https://mlflow.example.com"),
    ]
    settings = Settings(last_project="Local", watch_interval_seconds=1)
    ConfigStore(paths).save(Config(projects=projects, settings=settings))
    app = QApplication([])
    app.setQuitOnLastWindowClosed(False)
    assert QSystemTrayIcon.isSystemTrayAvailable(), "no tray host"
    desktop = QWidget()  # a plain backdrop instead of Xvfb's black root window
    desktop.setStyleSheet("background: #5b7189;")
    desktop.setGeometry(0, 0, 1280, 800)
    desktop.show()
    desktop.lower()  # below the tray panel, or it would take the clicks
    tray_app = TrayApp(paths, opener=lambda url: True, use_tray=True, autostart=XdgAutostart())
    tray_app.show()
    assert tray_app.tray is not None
    manager = tray_app.manager
    for name in ("Local", "Team share", "DRA emitter classification"):
        project = tray_app.controller.find(name)
        assert project is not None
        manager.start(project)
    wait(app, lambda: manager.aggregate() == "failed" and len(manager.active()) == 2
         and all(s.value == "running" for _, s, _ in manager.active()), 120)  # fmt: skip
    assert tray_app.tray is not None
    tray = tray_app.tray
    wait(app, lambda: tray.icon.geometry().width() > 0, 10)
    icon = tray.icon.geometry()
    pump(app, 0.5)
    hide_balloons(app, desktop)  # the failed start's notice: its own picture comes later
    open_menu(app, tray, icon)
    sub = hover(app, tray.menu, "project:Team share")
    hide_balloons(app, desktop)  # a balloon the right-click met opened the failure's log
    menu_rect = tray.menu.geometry().united(sub.geometry())  # type: ignore[union-attr]
    top_left = QPoint(max(0, menu_rect.left() - 24), 0)
    right = max(menu_rect.right(), icon.right()) + 8
    crop = f"{right - top_left.x()}x{menu_rect.bottom() + 24}+{top_left.x()}+0"
    screenshot(OUT / "tray-menu.png", crop)
    # The runs being trained, as the menu lists them (the watch has looked by now).
    runs_menu = hover(app, tray.menu, "active-runs")
    hide_balloons(app, desktop)
    rect = tray.menu.geometry().united(runs_menu.geometry())  # type: ignore[union-attr]
    left = max(0, rect.left() - 8)
    screenshot(OUT / "active-runs.png",
               f"{rect.right() + 8 - left}x{rect.bottom() + 16}+{left}+0")  # fmt: skip
    xdotool("key", "Escape", "key", "Escape")
    pump(app, 0.5)
    # A newer version offered (from a folder feed, as a daily check finds it): the menu says so.
    offer_update(tray_app.controller, tmp / "feed")
    open_menu(app, tray, icon)
    hover(app, tray.menu, "update")
    hide_balloons(app, desktop)
    rect = tray.menu.geometry()
    left, right = max(0, rect.left() - 8), max(rect.right(), icon.right()) + 8
    screenshot(OUT / "update-offer.png", f"{right - left}x{rect.bottom() + 16}+{left}+0")
    xdotool("key", "Escape")
    pump(app, 0.5)
    # A run that ends is told (Qt's own balloon by the icon on a desktop without a
    # notification service), and so is a project whose share is gone.
    from mlflow import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # this process's client, not the servers'
    hide_balloons(app, desktop)
    MlflowClient(store.as_uri()).set_terminated(runs[0])
    shot_balloon(app, desktop, OUT / "run-notification.png")
    failing = tray_app.controller.find("DRA emitter classification")
    assert failing is not None
    manager.start(failing)
    shot_balloon(app, desktop, OUT / "failure-notification.png")
    for name, widget in scenes(tray_app.controller).items():
        widget.move(40, 60)
        widget.show()
        pump(app, 1.0)
        if name == "move-to":
            mid_move(app, widget)
        frame = widget.frameGeometry()
        screenshot(OUT / f"{name}.png", f"{frame.width()}x{frame.height()}+{frame.x()}+{frame.y()}")
        widget.close()  # the move's: a close cancels it; its child is stopped before we go on
        wait(app, lambda w=widget: not getattr(w, "running", False), 60)
    tray_app.shutdown()
    print(f"wrote the pictures in {OUT}")
    return 0


def scenes(controller):  # type: ignore[no-untyped-def]
    """The dialogs the README shows, built as a user meets them (not shown yet), by file name.

    "move-to" is "Move to…" for the project "Team share" (a folder store), ready to move it to
    a new SQLite file: :func:`mid_move` clicks Move and waits for a progress step."""
    from launcher.ui.settings.move_dialog import MoveDialog
    from launcher.ui.settings.project_editor import ProjectEditor
    from launcher.ui.settings.settings_dialog import SettingsDialog

    settings = SettingsDialog(controller)
    settings.resize(860, 420)
    editor = ProjectEditor(controller, is_new=True)
    editor.resize(720, editor.sizeHint().height())  # the store's note in two lines
    editor.name_edit.setText("Team share")  # taken: the editor says so under the field
    editor.store_edit.setText("/mnt/iserver/UserDev/ai/mlflow/dra/mlruns")
    editor.save()  # refused, as after a click on Save: every error shows
    team = controller.find("Team share")
    assert team is not None, "the pictures' config has a project named Team share"
    move = MoveDialog(team, controller.paths, lambda *_switch, **_how: None)  # never switches
    return {"settings": settings, "editor": editor, "move-to": move}


def mid_move(app, dialog) -> None:  # type: ignore[no-untyped-def]
    """Click Move and stop at a progress step ("copying runs: 75 of 300"): paint the dialog as
    it is then and let no later step in until the picture is taken (the caller closes the
    dialog, which cancels the move: nothing is written under the target's name)."""
    from PySide6.QtWidgets import QApplication

    dialog.start_button.click()
    wait(app, lambda: moving(dialog), 240)
    dialog.repaint()  # now, not at the next event loop turn, which would show later steps
    QApplication.sync()
    time.sleep(0.5)


def moving(dialog) -> bool:  # type: ignore[no-untyped-def]
    """The move runs and its progress bar is part way (a step with a count, neither end)."""
    bar = dialog.progress
    return bool(dialog.running) and bar.maximum() > 0 and 0 < bar.value() < bar.maximum()


def offer_update(controller, feed: Path, version: str = "0.2.0") -> str:  # type: ignore[no-untyped-def]
    """Offer ``version`` as a daily check would: a folder feed as the release build writes one
    (a setup.exe and its SHA256SUMS), read by the launcher's own feed code. No network, and
    nothing installs (the menu is only shown). The version offered."""
    import hashlib

    from launcher import __version__
    from launcher.updates import feed as feeds

    feed.mkdir(parents=True, exist_ok=True)
    installer = feed / f"MLflowLauncher-{version}-setup.exe"
    installer.write_bytes(b"MZ" + bytes(1024))
    digest = hashlib.sha256(installer.read_bytes()).hexdigest()
    (feed / "SHA256SUMS").write_text(f"{digest}  {installer.name}\n", "utf-8")
    offer = feeds.check(str(feed), __version__)
    assert offer is not None, f"{version} is not newer than {__version__}"
    controller.updates.offer = offer
    return offer.release.version


def open_menu(app, tray, icon) -> None:  # type: ignore[no-untyped-def]
    """Right-click the tray icon until its menu shows."""
    for _attempt in range(5):  # a click right after start-up is sometimes not taken
        xdotool("mousemove", str(icon.center().x()), str(icon.center().y()))
        pump(app, 0.3)
        xdotool("click", "3")
        with contextlib.suppress(TimeoutError):
            wait(app, tray.menu.isVisible, 2)
            break
    wait(app, tray.menu.isVisible, 1)


def hover(app, menu, name: str):  # type: ignore[no-untyped-def]
    """Point at the menu's entry ``name`` (its object name) and return its submenu, shown
    (None for a plain entry, shown highlighted)."""
    entry = next(a for a in menu.actions() if a.objectName() == name)
    spot = menu.mapToGlobal(menu.actionGeometry(entry).center())
    xdotool("mousemove", str(spot.x()), str(spot.y()))
    sub = entry.menu()
    if sub is None:
        wait(app, lambda: menu.activeAction() is entry, 10)
    else:
        wait(app, sub.isVisible, 10)
    pump(app, 0.5)
    return sub


def history(store: Path, experiment: str, count: int) -> None:
    """``count`` finished runs in ``experiment``, logged by the mlflow client."""
    code = (
        "import os, sys, mlflow\nos.environ['MLFLOW_ALLOW_FILE_STORE'] = 'true'\n"
        "mlflow.set_tracking_uri(sys.argv[1])\nmlflow.set_experiment(sys.argv[2])\n"
        "for i in range(int(sys.argv[3])):\n"
        "    with mlflow.start_run(run_name=f'grid-{i:03d}'):\n"
        "        mlflow.log_param('lr', 0.001 * (i % 10 + 1))\n"
        "        mlflow.log_metric('val_loss', round(1.0 / (2 + i % 17), 3))\n"
    )
    subprocess.run([sys.executable, "-c", code, store.as_uri(), experiment, str(count)],
                   check=True, capture_output=True)  # fmt: skip


def training(store: Path, name: str) -> str:
    """A run left RUNNING by the mlflow client with a few metric steps, as a training script
    in progress leaves it; its id."""
    code = (
        "import os, sys, mlflow\nos.environ['MLFLOW_ALLOW_FILE_STORE'] = 'true'\n"
        "mlflow.set_tracking_uri(sys.argv[1])\nmlflow.set_experiment('dra_train_002_sweep')\n"
        "run = mlflow.start_run(run_name=sys.argv[2])\n"
        "for step in range(0, 130, 10):\n"
        "    mlflow.log_metric('loss', round(1.0 / (1 + step / 20), 3), step=step)\n"
        "print(run.info.run_id, flush=True)\nos._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, store.as_uri(), name], check=True,
                         capture_output=True, text=True)  # fmt: skip
    return out.stdout.split()[-1]


def balloons(app, desktop) -> list:  # type: ignore[no-untyped-def]
    """Qt's notification balloons on screen (tool-tip windows)."""
    from PySide6.QtCore import Qt

    tip = Qt.WindowType.ToolTip
    shown = [w for w in app.topLevelWidgets() if w is not desktop and w.isVisible()]
    return [w for w in shown if w.windowFlags() & tip == tip]


def hide_balloons(app, desktop) -> None:  # type: ignore[no-untyped-def]
    """No balloon, and no tool tip of the icon (the pointer rests on it after a click)."""
    from PySide6.QtWidgets import QToolTip

    for balloon in balloons(app, desktop):
        balloon.hide()
    QToolTip.hideText()
    for window in app.topLevelWidgets():  # a log a click on a failure's notice opened
        if type(window).__name__ == "LogViewer":
            window.close()
    pump(app, 0.3)


def shot_balloon(app, desktop, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Wait for Qt's next notification balloon and take its picture."""
    from PySide6.QtWidgets import QToolTip

    wait(app, lambda: bool(balloons(app, desktop)), 60)
    QToolTip.hideText()
    pump(app, 0.8)
    frame = balloons(app, desktop)[-1].frameGeometry()
    screenshot(path, f"{frame.width()}x{frame.height()}+{frame.x()}+{frame.y()}")
    hide_balloons(app, desktop)


def pump(app, seconds: float) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def wait(app, condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("screenshot setup timed out")
        pump(app, 0.05)


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, env=os.environ)


def screenshot(path: Path, crop: str) -> None:
    subprocess.run(["import", "-window", "root", "-crop", crop, "+repage", str(path)], check=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(child(Path(sys.argv[2])))
    sys.exit(main())
