"""Everything the launcher and its child processes agree on, in one place.

A child (a server, a host, a move, a probe) runs in a project's Python and talks to the launcher
through four channels, all defined here: its command line (the flag and the entry script), its
environment (the ``*_VAR`` names: what must not be in an argv, or what differs per project), its
standard output (one line per message, starting with a ``*_MARK``) and its exit code
(``EXIT_*``); the launcher talks back through the child's standard input (the lifeline pipe:
``stdin_pipe.py``), which carries a host's mount requests and a move's go-ahead to commit.

Both sides import this module: the launcher as ``launcher.server.child.protocol``, a child as
its sibling. Standard library only, like every module in this package.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# -- the command line -----------------------------------------------------------------------

SERVE_CHILD_FLAG = "--serve-child"
"""Frozen, the launcher's exe runs the child commands when its first argument is this flag."""
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__main__.py")
"""A child's entry script, run as ``python __main__.py COMMAND ...`` in a project's Python
(``commands.py`` lists the commands)."""

# -- exit codes ------------------------------------------------------------------------------

EXIT_FAILED = 1
"""Any other failure; also a move whose launcher went away or cancelled (its pipe closed)."""
EXIT_PORT_TAKEN = 3
EXIT_MLFLOW_MISSING = 4
EXIT_STORE_FAILED = 5
EXIT_MOVE_REFUSED = 6
"""The move's target cannot take the copy (its error line names why); nothing was written."""
EXIT_MOVE_FAILED = 7
"""The move failed on the way (its error line names why); nothing was committed."""

# -- the environment -------------------------------------------------------------------------

STORE_URI_VAR = "_LAUNCHER_STORE_URI"
"""The store URI of ``revision`` and ``upgrade``: passed in the environment, never in the argv,
where a database password would show in every process list."""
TARGET_URL_VAR = "_LAUNCHER_TARGET_URL"
"""The database a move copies into, password included (``move/to_database.py``)."""
TARGET_WORKSPACE_VAR = "_LAUNCHER_TARGET_WORKSPACE"
"""The workspace of that database a move copies into (``move/into_workspace.py``), if any."""
READ_ONLY_VAR = "_LAUNCHER_READ_ONLY"
"""A fast view's message: set, the server refuses writes with it (``readonly_guard.py``)."""
ACCESS_KEY_VAR = "_MLFLOW_LAUNCHER_ACCESS_KEY"
"""The access key; the child removes it from its environment at once (``access_gate.py``)."""
PROJECT_VAR = "_MLFLOW_LAUNCHER_PROJECT"
"""The project's name, for the page that says how to open it (not a secret)."""
ACCESS_KEY_PARAM = "launcher_key"
"""The query parameter of an opened link that carries the access key to the gate."""

# -- standard output: one message a line -----------------------------------------------------

ERROR_MARK = "LAUNCHER-ERROR:"
"""``LAUNCHER-ERROR: KIND: message``: the one line a child writes (to stderr) before it exits
on an error; the launcher turns KIND into a named cause."""
PROGRESS_MARK = "LAUNCHER-PROGRESS:"
"""``LAUNCHER-PROGRESS: {"phase", "done", "total", "text"}``: a step of a long job (a move)."""
RESULT_MARK = "LAUNCHER-RESULT:"
"""``LAUNCHER-RESULT: {...}``: a job's outcome, once, at its end (a move's verified counts)."""
COMMIT_MARK = "LAUNCHER-COMMIT?"
"""A move asks before it commits; it commits once :data:`COMMIT_GO` arrives on its standard
input, and exits without writing if the pipe closes instead (the user cancelled)."""
COMMIT_GO = "commit"
HOST_MARK = "LAUNCHER-HOST:"
"""Starts a host's answer: ``LAUNCHER-HOST: {"event": ...}`` (``host.py``)."""
LINE_MARK = "LAUNCHER-LINE:"
"""Starts a line a host wrote for one project: ``LAUNCHER-LINE:NAME<TAB>text``."""

STOP_GRACE_SECONDS = 5.0
"""How long a child's graceful stop may take before it exits hard."""


def error_line(kind: str, message: str) -> str:
    """The machine-readable error line (:func:`error_in` reads it)."""
    return f"{ERROR_MARK} {kind}: {message}"


def error(kind: str, message: str) -> None:
    """Write the machine-readable error line (a child's side)."""
    print(error_line(kind, message), file=sys.stderr, flush=True)


def progress(phase: str, done: int, total: int, text: str = "") -> None:
    """Write a progress line (a child's side)."""
    line = json.dumps({"phase": phase, "done": done, "total": total, "text": text})
    print(f"{PROGRESS_MARK} {line}", flush=True)


def result(payload: dict[str, Any]) -> None:
    """Write the result line (a child's side)."""
    print(f"{RESULT_MARK} {json.dumps(payload)}", flush=True)


def error_in(line: str) -> tuple[str, str] | None:
    """``(kind, message)`` of an error line (the launcher's side), else None."""
    if ERROR_MARK not in line:
        return None
    text = line.split(ERROR_MARK, 1)[1].strip()
    kind, sep, message = text.partition(":")
    return (kind.strip(), message.strip()) if sep else ("", text)


def payload(line: str, mark: str) -> Any:
    """The JSON after ``mark`` if ``line`` starts with it (the launcher's side), else None;
    a damaged line is None too."""
    if not line.startswith(mark):
        return None
    try:
        return json.loads(line[len(mark) :])
    except ValueError:
        return None
