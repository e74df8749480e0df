"""The one entry point: tray app, command line, or (frozen) a project's server process.

Decides from argv alone and imports only what that face needs: the server flag loads neither
Qt nor the CLI, the CLI loads no Qt widgets, and the tray loads no MLflow.
"""

from __future__ import annotations

import sys

import launcher

# Standard library only, so the tray and the CLI pay next to nothing for it.
from launcher.server.child import protocol

TRAY_COMMANDS = {"open"}


def main(argv: list[str] | None = None) -> int:
    if launcher.frozen():
        import multiprocessing

        multiprocessing.freeze_support()
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == protocol.SERVE_CHILD_FLAG:
        # The frozen exe re-launched as a server: sys.executable is the exe, not a Python.
        from launcher.server.child import commands

        return commands.main(args[1:])
    if not args:
        from launcher.app import headless

        if not headless.has_desktop():
            # Decided before Qt loads: without a platform Qt aborts the process (exit 134).
            print(headless.NO_DESKTOP_LINE, file=sys.stderr, flush=True)
            args = headless.serve_args()
    if not args or args[0] in TRAY_COMMANDS:
        from launcher.app.second_start import run_tray

        return run_tray(args)
    from launcher.app.cli import run_cli

    return run_cli(args)
