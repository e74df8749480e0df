"""Where no tray or window can be shown: serve the last used project in the foreground.

Qt aborts the whole process (exit 134, "could not connect to display") when it has no platform,
and that happens inside ``QApplication()``, where nothing can catch it. So the decision is made
from the environment alone, before Qt is even imported: Linux (and other X11/Wayland systems)
without ``DISPLAY`` and ``WAYLAND_DISPLAY`` has no desktop, unless ``QT_QPA_PLATFORM`` names a
platform that needs none (``offscreen``, ``vnc``, ...: then Qt was told what to do). Windows and
macOS always have one for an interactive user.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

NO_DESKTOP_LINE = "No desktop here (no DISPLAY or WAYLAND_DISPLAY): serving in the foreground."
_DISPLAYLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def has_desktop(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Can Qt show a tray icon or a window here? Decided without loading Qt."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return True
    qpa = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if qpa:
        if qpa in _DISPLAYLESS_PLATFORMS:
            return True
        if qpa.startswith("wayland"):
            return bool(env.get("WAYLAND_DISPLAY"))
        if qpa == "xcb":
            return bool(env.get("DISPLAY"))
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def serve_args() -> list[str]:
    """The command line that serves the last used project without a desktop.

    No browser: with no desktop, Python's ``webbrowser`` would start a text browser in this
    terminal (w3m, lynx) and hold the server up until it quits. The URL is printed instead.
    """
    return ["serve", "--no-browser"]
