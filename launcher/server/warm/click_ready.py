"""The tray's own part of a click, made ready ahead when the user keeps a server warm.

A warm host leaves MLflow's import out of a click; what was left in the tray itself was the
first click's own first uses: the server machinery (``process`` and what it loads: the
pre-flight, the server command, access keys, psutil, file locking) and finding the browsers
(``webbrowser``, which may run ``xdg-settings``). Measured here on the first of three projects
opened in a row: 0.29 s and 0.2 s of its 1.4 s. The tray does both in a thread once its icon
shows, only with 'keep a server warm' on (the user chose speed over the smallest idle tray):
with it off the tray's idle import set stays as small as at start.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


def prepare() -> None:
    """Import the click path and find the browsers; never raises (a click does it anyway)."""
    started = time.monotonic()
    try:
        import launcher.server.process  # noqa: F401
        from launcher.server import browser

        browser.register()
    except Exception:  # the click itself will say what is wrong
        log.exception("preparing the click path failed")
        return
    log.info("click path ready in %.2f s", time.monotonic() - started)
