"""A project's state in a few words, and the tray's tooltip: what every view shows of a server.

The menu, the settings list, the project finder, the tooltip and the fallback window all say the
same thing for the same state, so the wording lives here once.
"""

from __future__ import annotations

from launcher.server.manager import ServerManager
from launcher.server.state import State
from launcher.server.store_watch import StoreWatch


def status_text(manager: ServerManager, watch: StoreWatch, name: str) -> str:
    """ "running on port N", "starting…", "failed: CAUSE", "store unreachable" or "stopped"."""
    state = manager.state(name)
    if state is State.RUNNING and watch.unreachable(name):
        return "store unreachable"
    if state is State.RUNNING:
        server = manager.server(name)
        port = server.port if server is not None and server.pid is not None else None
        return f"running on port {port}" if port else "running"
    if state is State.STARTING:
        return "starting…"
    if state is State.FAILED:
        failure = manager.failure(name)
        return f"failed: {failure.cause.label}" if failure else "failed"
    return "stopped"


def tooltip(manager: ServerManager) -> str:
    """The tray icon's tooltip: what runs (with ports), starts and failed."""
    lines = ["MLflow Launcher"]
    names = manager.names()
    running = [n for n in names if manager.state(n) is State.RUNNING]
    starting = [n for n in names if manager.state(n) is State.STARTING]
    failed = [n for n in names if manager.state(n) is State.FAILED]
    if running:
        lines.append("Running: " + ", ".join(_with_port(manager, n) for n in running))
    if starting:
        lines.append("Starting: " + ", ".join(starting))
    if failed:
        lines.append("Failed: " + ", ".join(failed))
    if len(lines) == 1:
        lines.append("Nothing running")
    return "\n".join(lines)


def _with_port(manager: ServerManager, name: str) -> str:
    server = manager.server(name)
    return f"{name} (:{server.port})" if server and server.pid and server.port else name
