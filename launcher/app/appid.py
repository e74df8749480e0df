"""The Windows AppUserModelID: the one name Windows files the tray's notifications under.

Windows groups and labels an unpackaged app's toasts by the AppUserModelID of the process, and
finds their name and icon through a Start-menu shortcut carrying the same ID. The installer
(build/windows/installer.nsi, given this value by build/windows.sh) writes that shortcut; the
tray sets the ID for its own process at start, before any window or icon exists. Both read
:data:`APP_USER_MODEL_ID` from here, so they cannot drift apart.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)

APP_USER_MODEL_ID = "MLflowLauncher.Tray"
"""``Company.Product.SubProduct``, at most 128 characters, no spaces (Microsoft's rules)."""


def set_for_this_process(app_id: str = APP_USER_MODEL_ID) -> bool:
    """Call ``SetCurrentProcessExplicitAppUserModelID``; True when Windows accepted it.

    A no-op elsewhere. Failing is not fatal (toasts are then labelled by the exe's description),
    so it is logged, not raised.
    """
    if sys.platform != "win32":
        return False
    import ctypes

    try:
        shell32 = ctypes.windll.shell32  # type: ignore[attr-defined,unused-ignore]
        result = int(shell32.SetCurrentProcessExplicitAppUserModelID(ctypes.c_wchar_p(app_id)))
    except (AttributeError, OSError) as exc:
        log.warning("could not set the AppUserModelID: %s", exc)
        return False
    if result != 0:
        log.warning("SetCurrentProcessExplicitAppUserModelID returned 0x%08x", result & 0xFFFFFFFF)
        return False
    return True
