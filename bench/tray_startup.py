"""Time from starting the tray app to its icon shown, and its idle memory, vs a bare PySide6 tray.

    python bench/tray_startup.py [--runs 5] [--offscreen]

Both are started the same way, side by side, alternating: the launcher (``python -m launcher``
with a temp MLFLOW_LAUNCHER_HOME holding 20 projects) and a 15-line PySide6 script that only
shows a QSystemTrayIcon. "Shown" is the moment each process logs, from the event loop's first
turn after ``show()``, the wall-clock time (the launcher's app-log line ``tray shown ... t=``).
Idle RSS is read two seconds later. Runs under Xvfb with trayer as the tray host when those
are installed (a real tray icon, platform xcb), else offscreen (no tray: the launcher then
shows its fallback window).
Goals (issue 3): at most 0.4 s and 70 MiB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.app import xsession  # noqa: E402

GOAL_SECONDS = 0.4
GOAL_MIB = 70.0
IDLE_SECONDS = 2.0

BARE = textwrap.dedent(
    f"""
    import sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

    app = QApplication(sys.argv)
    app.setQuitOnLastWindowClosed(False)
    tray = QSystemTrayIcon(QIcon({str(REPO / "assets" / "tray-idle.png")!r}))
    menu = QMenu()
    menu.addAction("Quit", app.quit)
    tray.setContextMenu(menu)
    tray.show()
    QTimer.singleShot(0, lambda: print(f"tray shown t={{time.time():.6f}}", flush=True))
    sys.exit(app.exec())
    """
)


def make_home(root: Path, projects: int = 20, keep_warm: bool = True) -> Path:
    """A launcher home with ``projects`` projects of every store kind (none is started), and
    'keep a server warm' as given (on is the default; then the tray also loads its click path
    ahead, launcher/server/warm/click_ready.py)."""
    home = root / "home"
    (home / "config").mkdir(parents=True)
    kinds = [
        "/srv/share/team{i}/mlruns",
        "/srv/share/team{i}/mlflow.db",
        "sqlite:////data/p{i}/mlflow.db",
        "postgresql://user@db.example/mlflow{i}",
        "http://tracking.example:{port}",
    ]
    config = {
        "schema": 1,
        "settings": {"last_project": "Project 00", "keep_warm": keep_warm},
        "catalogs": [],
        "projects": [
            {
                "name": f"Project {i:02d}",
                "store": kinds[i % len(kinds)].format(i=i, port=5000 + i),
                "prefix": f"p{i}_",
            }
            for i in range(projects)
        ],
    }
    (home / "config" / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return home


def run_once(cmd: list[str], env: dict[str, str], marker_file: Path | None) -> tuple[float, float]:
    """(seconds to 'tray shown', idle RSS in MiB) of one start of ``cmd``."""
    started = time.time()
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        shown = _wait_shown(proc, marker_file, started)
        time.sleep(IDLE_SECONDS)
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
        return shown - started, rss
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_shown(proc: subprocess.Popen[str], log: Path | None, started: float) -> float:
    pattern = re.compile(r"tray shown.* t=(\d+\.\d+)")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if log is None:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = pattern.search(line)
        else:
            text = log.read_text(encoding="utf-8") if log.exists() else ""
            match = next((m for m in pattern.finditer(text) if float(m.group(1)) > started), None)
            if match is None:
                time.sleep(0.01)
        if match:
            return float(match.group(1))
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode} before showing")
    raise RuntimeError("no 'tray shown' within 30 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--offscreen", action="store_true", help="no Xvfb even if installed")
    parser.add_argument("--keep-warm", choices=["on", "off"], default="on")
    args = parser.parse_args()
    missing = "--offscreen given" if args.offscreen else xsession.available(tray=True)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        home = make_home(root, keep_warm=args.keep_warm == "on")
        if missing is None:
            session = stack.enter_context(xsession.XSession(tray=True))
            env, where = session.env, f"Xvfb {session.display} + trayer (platform xcb)"
        else:
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
            where = f"offscreen, no tray host ({missing})"
        env = dict(env, MLFLOW_LAUNCHER_HOME=str(home), PYTHONPATH=str(REPO))
        bare_script = root / "bare_tray.py"
        bare_script.write_text(BARE, encoding="utf-8")
        log = home / "logs" / "launcher.log"
        results: dict[str, list[tuple[float, float]]] = {"launcher": [], "bare": []}
        run_once([sys.executable, "-m", "launcher"], env, log)  # warm the file cache once
        for _ in range(args.runs):
            results["bare"].append(run_once([sys.executable, str(bare_script)], env, None))
            results["launcher"].append(run_once([sys.executable, "-m", "launcher"], env, log))
    print(f"Tray start-up, {args.runs} runs each, alternating; {where}; 20 projects configured;"
          f" keep warm {args.keep_warm}")  # fmt: skip
    medians = {}
    for name, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        mib = statistics.median(r[1] for r in runs)
        medians[name] = (seconds, mib)
        shown = ", ".join(f"{r[0]:.3f}" for r in runs)
        print(
            f"  {name:9s} to icon shown: median {seconds:.3f} s  [{shown}]   idle RSS {mib:.1f} MiB"
        )
    (ls, lm), (bs, bm) = medians["launcher"], medians["bare"]
    print(f"  ratio launcher/bare: time {ls / bs:.2f}, memory {lm / bm:.2f}")
    ok_time, ok_mem = ls <= GOAL_SECONDS, lm <= GOAL_MIB
    print(f"  goals: <= {GOAL_SECONDS} s {'met' if ok_time else 'MISSED'}, "
          f"<= {GOAL_MIB:.0f} MiB {'met' if ok_mem else 'MISSED'}")  # fmt: skip
    return 0 if ok_time and ok_mem else 1


if __name__ == "__main__":
    sys.exit(main())
