"""The Windows installer, both ways: what a silent install recorded, and running an upgrade.

``setup.exe /S`` writes ``HKCU\\Software\\MLflow Launcher``: ``Updates`` (1 with ``/UPDATES=1``,
else 0, so a silent roll-out never starts checking on its own) and ``UpdateFeed`` (``/FEED=``).
An interactive install writes neither, and the launcher asks once.

An upgrade runs the downloaded ``setup.exe /S /UPDATE=1`` detached from the launcher: the
installer asks the running tray to quit (``mlflow-launcher quit``), replaces the program files
and, because of ``/UPDATE=1``, starts the new version. It is not in the Job Object that ends the
servers with the tray (lifeline.py assigns only servers to it), so it outlives the tray.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import launcher

log = logging.getLogger(__name__)

POLICY_KEY = r"Software\MLflow Launcher"
UPDATE_ARGS = ("/S", "/UPDATE=1", "/UPDATES=1")
"""Silent, start the new version when done, and keep update checks on (the user allowed them)."""


class CannotInstall(Exception):
    """This launcher was not installed by setup.exe, so a setup.exe cannot upgrade it."""


def installed_by_setup() -> bool:
    """True for the frozen Windows app the installer put in place (an Uninstall.exe beside it)."""
    if sys.platform != "win32" or not launcher.frozen():
        return False
    return (Path(sys.executable).parent / "Uninstall.exe").is_file()


def why_not_installable() -> str | None:
    """None when :func:`start` can upgrade this launcher, else the reason in plain words."""
    if sys.platform != "win32":
        return "updates install on Windows; here, upgrade with pip: pip install -U mlflow-launcher"
    if not launcher.frozen():
        return "this launcher runs from a Python install: pip install -U mlflow-launcher"
    if not installed_by_setup():
        return "this is the portable copy: unpack the new portable zip instead"
    return None


def recorded_choices() -> tuple[str | None, str | None]:
    """(``'on'``/``'off'``/None, the feed or None) as a silent install recorded them."""
    if sys.platform != "win32":
        return None, None
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, POLICY_KEY) as key:
            updates = _value(winreg, key, "Updates")
            feed = _value(winreg, key, "UpdateFeed")
    except OSError:
        return None, None
    choice = None if updates is None else ("on" if str(updates).strip() == "1" else "off")
    return choice, (str(feed) if feed else None)


def _value(winreg: object, key: object, name: str) -> object | None:
    try:
        return winreg.QueryValueEx(key, name)[0]  # type: ignore[attr-defined]
    except OSError:
        return None


def start(setup: Path) -> None:
    """Run ``setup`` as a silent upgrade, detached: it outlives the launcher that started it."""
    reason = why_not_installable()
    if reason is not None:
        raise CannotInstall(reason)
    flags = (
        subprocess.DETACHED_PROCESS  # type: ignore[attr-defined]
        | subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    )
    log.info("starting the upgrade: %s %s", setup, " ".join(UPDATE_ARGS))
    subprocess.Popen(
        [str(setup), *UPDATE_ARGS],
        creationflags=flags,
        close_fds=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=str(setup.parent),
    )
