"""Start at login: opt-in, easy to turn off, and it survives moving the launcher.

Windows: a value in ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`` (per user, no
admin rights). Linux: an XDG autostart ``.desktop`` file in ``$XDG_CONFIG_HOME/autostart``. The
entry is rewritten at each start (:meth:`refresh`), so an .exe moved to another folder still
starts from where it is now.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import launcher

log = logging.getLogger(__name__)

APP_ID = "mlflow-launcher"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "MLflow Launcher"


def launch_command() -> list[str]:
    """How to start this launcher's tray from a login script, as it is installed right now.

    Frozen: the .exe itself, the windowed one when this is its console twin (``MLflowLauncher-cli
    .exe`` turning the setting on must not open a console at every login). Installed: the
    ``mlflow-launcher`` gui script beside the interpreter. Otherwise: ``pythonw -m launcher``
    (``python`` on Linux).
    """
    if launcher.frozen():
        return [str(tray_exe(Path(sys.executable)))]
    scripts = Path(sys.executable).parent
    for name in ("mlflow-launcher.exe", "mlflow-launcher"):
        script = scripts / name
        if script.is_file():
            return [str(script)]
    python = Path(sys.executable)
    if sys.platform == "win32":
        windowed = python.with_name("pythonw.exe")
        if windowed.is_file():
            python = windowed
    return [str(python), "-m", "launcher"]


def tray_exe(exe: Path) -> Path:
    """The windowed exe beside a frozen console twin (``X-cli.exe`` -> ``X.exe``), else ``exe``."""
    if exe.stem.lower().endswith("-cli"):
        windowed = exe.with_name(exe.stem[: -len("-cli")] + exe.suffix)
        if windowed.is_file():
            return windowed
    return exe


class XdgAutostart:
    """A ``.desktop`` file in the XDG autostart folder (Linux and other free desktops)."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, command: list[str] | None = None
    ) -> None:
        env = os.environ if environ is None else environ
        config_home = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        self.path = Path(config_home) / "autostart" / f"{APP_ID}.desktop"
        self.command = command or launch_command()

    def is_enabled(self) -> bool:
        return self.path.is_file()

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(self.desktop_entry(), encoding="utf-8")
            os.replace(tmp, self.path)
        elif self.path.exists():
            self.path.unlink()

    def refresh(self) -> None:
        if self.is_enabled():
            self.set_enabled(True)

    def desktop_entry(self) -> str:
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=MLflow Launcher\n"
            "Comment=Every project's MLflow UI one click away\n"
            f"Exec={desktop_exec(self.command)}\n"
            f"Icon={_icon_path()}\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )


def _icon_path() -> str:
    from launcher.ui.common.icons import asset

    return str(asset("launcher.png"))


class WindowsAutostart:  # pragma: no cover - exercised on Windows only
    """A value under the user's Run key."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or launch_command()

    def is_enabled(self) -> bool:
        if sys.platform != "win32":
            return False
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
        except FileNotFoundError:
            return False
        return True

    def set_enabled(self, enabled: bool) -> None:
        if sys.platform != "win32":
            raise OSError("the Run key exists on Windows only")
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            if enabled:
                value = subprocess.list2cmdline(self.command)
                winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, value)
            else:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, RUN_VALUE)

    def refresh(self) -> None:
        if self.is_enabled():
            self.set_enabled(True)


Autostart = XdgAutostart | WindowsAutostart


def for_this_os() -> Autostart | None:
    """The autostart of this OS, or None where the launcher has none (macOS)."""
    if sys.platform == "win32":
        return WindowsAutostart()
    if sys.platform == "darwin":
        return None
    return XdgAutostart()


def desktop_exec(argv: list[str]) -> str:
    """An ``Exec=`` value per the Desktop Entry spec: quoted args, escaped specials, ``%%``."""
    parts = []
    for arg in argv:
        escaped = arg.replace("%", "%%")
        if any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`="):
            inner = escaped
            for ch in ("\\", '"', "`", "$"):
                inner = inner.replace(ch, "\\" + ch)
            parts.append(f'"{inner}"')
        else:
            parts.append(escaped)
    # The key-file layer escapes backslashes once more (the spec's "four backslashes" rule).
    return " ".join(parts).replace("\\", "\\\\")
