"""A move's child process: run in the project's Python, its progress, result and commit.

A move's work runs in a child (``child/commands.py move-to-sqlite`` or ``move-to-database``):
the project's MLflow writes the schema it will serve, it works frozen, and cancelling is
killing that process. Its messages come back as lines (``child/protocol.py``): progress steps
for the window, one result, an error with a named cause, and a move into a database asks before
it commits. The answer is given here, once: after it a cancel is refused (the copy is being
committed), so "Cancelled; nothing was written" is always true.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import redact
from launcher.server import process_tree, spawn
from launcher.server.child import protocol
from launcher.server.python import environment


class MoveError(Exception):
    """The move cannot start or did not finish; the message is for the user, ``cause`` the
    child's named cause (``target-auth``, ``target-not-empty``...) when it gave one."""

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class MoveCancelled(MoveError):
    """The user cancelled; nothing was written under the target's name."""


@dataclass(frozen=True)
class Step:
    """Progress: ``phase`` is 'runs' (copying), 'registry', 'schema', 'copy', 'verify',
    'commit' or 'done'."""

    phase: str
    done: int
    total: int
    text: str = ""

    def describe(self) -> str:
        if self.phase == "runs" and self.total:
            return f"copying runs: {self.done:,} of {self.total:,}"
        if self.phase == "verify" and self.total:
            return f"verifying: run {self.done:,} of {self.total:,}"
        return self.text or self.phase


def log_path_of(paths: AppPaths, project: Project) -> Path:
    """Where a project's moves write their children's output (one file, appended)."""
    return paths.log_dir / "moves" / f"{project.slug}.log"


def run_child(
    project: Project,
    args: list[str],
    *,
    log_path: Path,
    title: str,
    report: Callable[[Step], None],
    cancel: threading.Event,
    env: Mapping[str, str] | None = None,
    failed: str = "MLflow's converter failed",
) -> dict[str, Any] | None:
    """Run ``child/commands.py ARGS --watch-stdin`` in the project's Python; return its result.

    ``env`` carries what must not be in argv (a database URL); every line logged is redacted.
    Raises :class:`MoveCancelled` when ``cancel`` is set before the commit, and
    :class:`MoveError` (``failed``, then the child's named cause) when it fails.
    """
    try:
        python = environment.resolve(project.python)
    except environment.EnvironmentError_ as exc:
        raise MoveError(str(exc)) from exc
    if not python.mlflow:
        raise MoveError(f"{python.python} has no MLflow to run the move with.")
    run_env = python.child_env(dict(os.environ))
    run_env.update({"MLFLOW_ALLOW_FILE_STORE": "true", "PYTHONUNBUFFERED": "1"})
    run_env["PYTHONIOENCODING"] = "utf-8"
    run_env.update(env or {})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    work = str(log_path.parent)  # local: cmd.exe and friends reject a UNC working directory
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"=== {datetime.now():%Y-%m-%d %H:%M:%S} {redact(title)}\n")
        log.flush()
        try:
            proc = spawn.spawn(python.child_command(*args, "--watch-stdin"), env=run_env, cwd=work)
        except OSError as exc:
            raise MoveError(f"Could not run {python.python}: {exc}") from exc
        child = _Child(proc, log, report, cancel)
        child.follow()
    if proc.returncode != 0:
        raise MoveError(f"{failed} ({child.cause()})", child.kind())
    return child.result


class _Child:
    """One running move: its output read in a thread, its cancel and commit decided here."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        log: TextIO,
        report: Callable[[Step], None],
        cancel: threading.Event,
    ) -> None:
        self.proc = proc
        self.log = log
        self.report = report
        self.cancel = cancel
        self.tail: deque[str] = deque(maxlen=40)
        self.result: dict[str, Any] | None = None
        self.committing = False
        self._decided = threading.Lock()

    def follow(self) -> None:
        reader = threading.Thread(target=self._read, name="move-child", daemon=True)
        reader.start()
        try:
            while self.proc.poll() is None:
                with self._decided:
                    if self.cancel.is_set() and not self.committing:
                        raise MoveCancelled("Cancelled; no database was written.")
                time.sleep(0.1)
            reader.join(5)
        finally:
            self._stop()
            reader.join(5)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = redact(raw.decode("utf-8", "replace").rstrip("\r\n"))
            if line.strip() == protocol.COMMIT_MARK:
                self._answer_commit()
                continue
            step = protocol.payload(line, protocol.PROGRESS_MARK)
            if isinstance(step, dict):
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    self.report(
                        Step(step["phase"], int(step["done"]), int(step["total"]), step["text"])
                    )
                continue
            result = protocol.payload(line, protocol.RESULT_MARK)
            if isinstance(result, dict):
                self.result = result
                continue
            self.tail.append(line)
            with contextlib.suppress(OSError, ValueError):
                self.log.write(line + "\n")

    def _answer_commit(self) -> None:
        """Go ahead unless cancelled; from now on a cancel is refused (see the module doc)."""
        with self._decided:
            if self.cancel.is_set():
                return  # the poll loop kills the child: its transaction is never committed
            self.committing = True
        self.report(Step("commit", 0, 0, "committing: too late to cancel"))
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(f"{protocol.COMMIT_GO}\n".encode())
            self.proc.stdin.flush()

    def _stop(self) -> None:
        if self.proc.poll() is None:
            process_tree.kill(self.proc.pid, process_tree.descendants(self.proc.pid))
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)

    def _error(self) -> tuple[str, str] | None:
        errors = [e for e in map(protocol.error_in, self.tail) if e is not None]
        return errors[-1] if errors else None

    def cause(self) -> str:
        """The child's last error line, else its last line."""
        error = self._error()
        if error is not None:
            kind, message = error
            return f"{kind}: {message}" if kind else message
        return ([line for line in self.tail if line.strip()][-1:] or ["no output"])[0]

    def kind(self) -> str | None:
        error = self._error()
        return error[0] or None if error is not None else None
