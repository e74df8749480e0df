"""What the launcher and its server processes agree on: the flag, the exit codes, the error mark.

The launcher side imports this module instead of :mod:`launcher.server.child.main`, and
``main.py`` loads it beside itself; standard library only, like every module in this package.
"""

from __future__ import annotations

import os

SERVE_CHILD_FLAG = "--serve-child"
"""Frozen, the launcher's exe runs ``main.py`` when its first argument is this flag."""
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "main.py")
"""The server process's script, run as ``python main.py COMMAND ...`` in a project's Python."""

EXIT_PORT_TAKEN = 3
EXIT_MLFLOW_MISSING = 4
EXIT_STORE_FAILED = 5

ERROR_MARK = "LAUNCHER-ERROR:"
"""Starts the one machine-readable line a server process writes before it exits on an error."""
STOP_GRACE_SECONDS = 5.0
STORE_URI_VAR = "_LAUNCHER_STORE_URI"
"""The store URI of ``revision`` and ``upgrade``: passed in the environment, never in the argv,
where a database password would show in every process list."""

HOST_MARK = "LAUNCHER-HOST:"
"""Starts a host's answer on its stdout: ``LAUNCHER-HOST: {"event": ...}`` (host.py)."""
LINE_MARK = "LAUNCHER-LINE:"
"""Starts a line a host wrote for one project: ``LAUNCHER-LINE:NAME<TAB>text``."""
