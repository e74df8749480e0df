"""``mlflow-launcher move NAME --to postgresql://... [--artifacts DIR] [--switch]``.

The team-database half of the ``move`` command (``command.py`` parses and dispatches here
when ``--to`` is a database URL). The password is never taken from argv: a URL without one gets
it from ``MLFLOW_LAUNCHER_DB_PASSWORD`` or, on a terminal, a prompt; every message shows the URL
redacted. A refusal, failure or cancel leaves the database and the config as they were.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import urllib.parse

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, err
from launcher.app.commands.move import shared
from launcher.model.config import ConfigStore
from launcher.model.project import Project
from launcher.model.stores import redact
from launcher.server.stores.move import to_database
from launcher.server.stores.move.child_run import MoveError

PASSWORD_ENV = "MLFLOW_LAUNCHER_DB_PASSWORD"


def _password(url: str) -> str | None:
    """The password for a URL that has none: the environment, else a prompt on a terminal."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is not None or not parts.username:
        return None
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for {parts.username}@{parts.hostname}: ") or None
    return None


def _failure(exc: MoveError) -> str:
    """The error with its named cause (``target-auth``...) first, for scripts and the user."""
    cause = f" [{exc.cause}]" if exc.cause else ""
    return f"error{cause}: {redact(str(exc))}"


def run(args: argparse.Namespace, store: ConfigStore, project: Project) -> int:
    try:
        the_plan = to_database.plan(
            project,
            store.paths,
            args.to,
            password=_password(args.to),
            artifacts=args.artifacts,
        )
    except to_database.ArtifactsRequired as exc:
        err(f"error: {exc}")
        if exc.suggestion:
            err(
                f"  mlflow-launcher move {project.name!r} --to {redact(args.to)!r} "
                f"--artifacts {exc.suggestion!r}"
            )
        return EXIT_FAIL
    except MoveError as exc:
        err(f"error: {exc}")
        return EXIT_FAIL
    err(f"Moving {the_plan.source} to {the_plan.target} (Ctrl-C cancels)...")
    result = shared.run_move(
        lambda progress, cancel: to_database.move(
            the_plan, store.paths, progress=progress, cancel=cancel
        ),
        "Cancelled; the database was not changed and the project is unchanged.",
        _failure,
    )
    if result is None:
        return EXIT_FAIL
    switched = None
    if result.ok and args.switch:
        switched = shared.switch(
            store,
            project.name,
            the_plan.url,
            kept_as=the_plan.source_kind.value,
            artifacts=the_plan.artifacts,
        )
    shared.print_result(result, args.json, project.name, the_plan.target, switched)
    return EXIT_OK if result.ok else EXIT_FAIL
