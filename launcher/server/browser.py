"""Opening a project's UI in the browser, off the GUI thread and with the server's key.

``webbrowser`` may run a program first (``BROWSER``, xdg-open), and a project with a prefix opens
on its own experiments, which takes a REST call: both would freeze the tray if done in its thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from launcher.model.project import Project

log = logging.getLogger(__name__)

Opener = Callable[[str], Any]


_first_use = threading.Lock()
_registered = False


def register() -> None:
    """Python's ``webbrowser`` imported and its browsers found (honours BROWSER), once.

    Its first use registers the browsers, and another thread opening meanwhile finds the list
    empty and opens nothing (no error): three projects served at once after the tray started
    lost a tab that way. So it is done once, under a lock, before any open. Finding them may
    run ``xdg-settings`` (0.2 s here), so a tray that keeps a server warm does it ahead
    (launcher.server.warm.click_ready)."""
    import webbrowser

    global _registered
    with _first_use:
        if not _registered:
            with contextlib.suppress(webbrowser.Error):
                webbrowser.get()
            _registered = True


def open_in_browser(url: str) -> bool:
    """The real opener: Python's ``webbrowser``, imported when first used (:func:`register`)."""
    import webbrowser

    register()
    return webbrowser.open(url)


def open_in_thread(
    opener: Opener, url: str, project: Project | None = None, key: str | None = None
) -> None:
    """Hand ``url``, carrying ``key`` (its server's access key, if it has one), to ``opener`` in
    a thread of its own.

    With ``project``, ``url`` is its server's root and what opens is the project's own view
    (only its prefix's experiments, :func:`launcher.server.stores.experiments.open_url_for`),
    falling back to the root if the list cannot be read.
    """
    args = (opener, url, project, key)
    threading.Thread(target=_open_safely, args=args, daemon=True).start()


def _open_safely(opener: Opener, url: str, project: Project | None, key: str | None) -> None:
    """The browser thread; it holds no reference to the manager, which may be gone by then."""
    from launcher.server.access_key import with_key

    try:
        link = with_key(url, key)  # the link carries the server's key once (access_key.py)
        if project is not None and project.prefix:
            from launcher.server.stores.experiments import open_url_for  # yaml: not at tray start

            link = with_key(open_url_for(project, link), key)
        opener(link)
    except Exception:
        log.exception("could not open %s in the browser", url)
