"""Naming why a server failed, from its exit code and the last lines it wrote.

"Failed to start" with no reason is the first complaint users of every comparable launcher
make; each cause here comes with a sentence that says what to do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from launcher.server.child import protocol


class Cause(str, Enum):
    PORT_TAKEN = "port-taken"
    PYTHON_MISSING = "python-missing"
    MLFLOW_MISSING = "mlflow-missing"
    STORE_MISSING = "store-missing"
    STORE_UNREACHABLE = "store-unreachable"
    FILE_STORE_REFUSED = "file-store-refused"
    SCHEMA_OUTDATED = "schema-outdated"
    SCHEMA_NEWER = "schema-newer"
    PERMISSION_DENIED = "permission-denied"
    BAD_STORE = "bad-store"
    TIMEOUT = "timeout"
    STOPPED = "stopped"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Cause.PORT_TAKEN: "Port taken",
    Cause.PYTHON_MISSING: "Python environment not found",
    Cause.MLFLOW_MISSING: "MLflow missing in the chosen environment",
    Cause.STORE_MISSING: "Store missing",
    Cause.STORE_UNREACHABLE: "Store unreachable",
    Cause.FILE_STORE_REFUSED: "Folder store refused",
    Cause.SCHEMA_OUTDATED: "Database schema out of date",
    Cause.SCHEMA_NEWER: "Database from a newer MLflow",
    Cause.PERMISSION_DENIED: "Permission denied",
    Cause.BAD_STORE: "Not a usable store",
    Cause.TIMEOUT: "Server did not become ready",
    Cause.STOPPED: "Stopped before it was ready",
    Cause.UNKNOWN: "Server failed",
}


@dataclass(frozen=True)
class Failure:
    cause: Cause
    message: str
    log_tail: Sequence[str] = field(default_factory=tuple)

    def __str__(self) -> str:
        return f"{self.cause.label}: {self.message}"

    def details(self, lines: int = 15) -> str:
        tail = "\n".join(list(self.log_tail)[-lines:])
        return f"{self}\n\nLast lines of the server log:\n{tail}" if tail else str(self)


class ServerFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure))
        self.failure = failure


# Order matters: the first pattern found in the output wins.
_PATTERNS: list[tuple[Cause, re.Pattern[str]]] = [
    (
        Cause.PORT_TAKEN,
        re.compile(
            r"LAUNCHER-ERROR: port-taken|address already in use|errno (98|48|10048)|"
            r"only one usage of each socket address",
            re.I,
        ),
    ),
    (
        Cause.MLFLOW_MISSING,
        re.compile(r"LAUNCHER-ERROR: mlflow-missing|No module named '?(mlflow|uvicorn)\b", re.I),
    ),
    (Cause.SCHEMA_OUTDATED, re.compile(r"out-of-date database schema|mlflow db upgrade", re.I)),
    (Cause.FILE_STORE_REFUSED, re.compile(r"MLFLOW_ALLOW_FILE_STORE|in maintenance mode", re.I)),
    (
        Cause.PERMISSION_DENIED,
        re.compile(
            r"permission denied|PermissionError|WinError 5\]|access is denied|readonly database",
            re.I,
        ),
    ),
    (
        Cause.STORE_UNREACHABLE,
        re.compile(
            r"unable to open database file|could not connect to server|connection refused|"
            r"could not translate host name|can't connect to mysql|network path was not found|"
            r"WinError (53|64|67)\]|timed out|Name or service not known|OperationalError",
            re.I,
        ),
    ),
    (
        Cause.STORE_MISSING,
        re.compile(r"No such file or directory|does not exist|WinError [23]\]", re.I),
    ),
]

_ADVICE = {
    Cause.PORT_TAKEN: "another program is listening on that port. Pick another port for this "
    "project, or set it to 0 so the launcher picks a free one.",
    Cause.MLFLOW_MISSING: "the project's Python environment has no usable MLflow. Install it "
    "there (pip install mlflow) or leave the environment empty to use the launcher's own.",
    Cause.SCHEMA_OUTDATED: "the database was written by an older MLflow.",
    Cause.FILE_STORE_REFUSED: "this MLflow refuses folder stores.",
    Cause.PERMISSION_DENIED: "the store cannot be read or written with your account.",
    Cause.STORE_UNREACHABLE: "the store could not be reached (share offline, database down, "
    "wrong host or credentials?).",
    Cause.STORE_MISSING: "the store does not exist at the given location.",
    Cause.UNKNOWN: "see the server log for details.",
}


def classify(exit_code: int | None, lines: Sequence[str]) -> Failure:
    """The named cause of a server that exited, from its exit code and output."""
    tail = tuple(lines)
    text = "\n".join(tail)
    if exit_code == protocol.EXIT_PORT_TAKEN:
        cause = Cause.PORT_TAKEN
    elif exit_code == protocol.EXIT_MLFLOW_MISSING:
        cause = Cause.MLFLOW_MISSING
    else:
        cause = next((c for c, pattern in _PATTERNS if pattern.search(text)), Cause.UNKNOWN)
    detail = _marked_detail(tail) or _last_error_line(tail)
    message = _ADVICE[cause]
    if detail and cause is not Cause.PORT_TAKEN:
        message = f"{message} ({detail})"
    elif cause is Cause.PORT_TAKEN and detail:
        message = f"{detail}: {message}"
    if exit_code is not None and cause is Cause.UNKNOWN:
        message = f"the server exited with code {exit_code}; {message}"
    return Failure(cause, message, tail)


def _marked_detail(lines: Sequence[str]) -> str:
    for line in reversed(lines):
        error = protocol.error_in(line)
        if error is not None:
            return error[1][:300]
    return ""


def _last_error_line(lines: Sequence[str]) -> str:
    for line in reversed(lines):
        stripped = line.strip()
        if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", stripped):
            return stripped[:300]
    return ""
