"""A start of the tray app (``mlflow-launcher`` or ``mlflow-launcher open NAME``): hand the
request to the tray already running, or become the tray.

Most starts while a tray runs are clicks of a shortcut or a script's ``open NAME``; they need the
instance channel and nothing else, so this module loads only QtCore and QtNetwork (through
``launcher.ui.tray.instance``), 55 ms less per start here than with the tray's widgets. Only when
no tray answers does it take the instance lock and load ``launcher.app.start_tray``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from launcher.model.paths import app_paths
from launcher.ui.tray.instance import InstanceLock, hand_over, instance_name

USAGE = "usage: mlflow-launcher [open NAME]"
HANDOVER_WAIT = 10.0
"""How long a second start waits for a first one that holds the lock but is not listening yet."""


def run_tray(args: list[str]) -> int:
    """The tray app's entry point; returns the process exit code."""
    if args and (args[0] != "open" or len(args) != 2):
        print(USAGE, file=sys.stderr)
        return 2
    message: dict[str, Any] = (
        {"command": "open", "name": args[1]} if args else {"command": "activate"}
    )
    paths = app_paths()
    name = instance_name(paths)
    if hand_over(name, message):
        return 0
    lock = InstanceLock(paths)
    deadline = time.monotonic() + HANDOVER_WAIT
    while not lock.acquire():
        # Another instance holds the lock: it is starting up; hand over once it listens.
        if hand_over(name, message, timeout_ms=500):
            return 0
        if time.monotonic() > deadline:
            print("Another MLflow Launcher is running but does not answer.", file=sys.stderr)
            return 1
        time.sleep(0.2)
    try:
        from launcher.app.start_tray import run_primary

        return run_primary(paths, name, message if args else None)
    finally:
        lock.release()
