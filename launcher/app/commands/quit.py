"""``mlflow-launcher quit``: ask the running tray to stop every server and exit, and wait for it.

What the Windows installer and uninstaller run before they replace or remove the program files
(an exe in use cannot be overwritten on Windows). The request goes through the single-instance
channel (:mod:`launcher.ui.tray.instance`); the tray answers it with its normal Quit, which
stops every server and waits for their process trees. The tray holds its instance lock until
then, so the lock coming free is the proof that it is gone.
"""

from __future__ import annotations

import argparse
import time

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, err
from launcher.model.config import ConfigStore
from launcher.ui.tray.instance import InstanceLock, hand_over, instance_name

DEFAULT_TIMEOUT = 120.0
"""Seconds to wait for the tray to stop its servers (each is asked first, then its tree ended)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quit", help="make the running tray stop every server and exit (the installer uses it)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for it (default {DEFAULT_TIMEOUT:.0f})",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    paths = store.paths
    lock = InstanceLock(paths)
    if not hand_over(instance_name(paths), {"command": "quit"}):
        if lock.acquire():
            lock.release()
            print("No MLflow Launcher is running.", flush=True)
            return EXIT_OK
        err("error: an MLflow Launcher is running but does not answer; quit it from its menu")
        return EXIT_FAIL
    print("Asked MLflow Launcher to quit; waiting for its servers to stop ...", flush=True)
    started = time.monotonic()
    while not lock.acquire():
        if time.monotonic() - started > args.timeout:
            err(f"error: MLflow Launcher is still running after {args.timeout:.0f} s")
            return EXIT_FAIL
        time.sleep(0.2)
    lock.release()
    print(f"MLflow Launcher has quit ({time.monotonic() - started:.1f} s).", flush=True)
    return EXIT_OK
