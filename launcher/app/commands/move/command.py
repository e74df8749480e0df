"""``mlflow-launcher move NAME [--to FILE.db|DATABASE-URL] [--switch]``: a folder store to
SQLite, or a folder or SQLite store to a team database (``to_database.py``).

Progress on standard error, the verified report on standard output; Ctrl-C cancels and
leaves no file under the target's name. ``--switch`` points the project at the new database
only after the check passed, and keeps the folder store as "NAME (folder)".
"""

from __future__ import annotations

import argparse

from launcher.app.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    err,
    find_project,
    load,
    refuse_team_edit,
)
from launcher.app.commands.move import database, shared
from launcher.model.config import ConfigStore
from launcher.server.stores.move import to_database, to_sqlite
from launcher.server.stores.move.child_run import MoveError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "move",
        aliases=["migrate"],  # its first name, kept for the scripts that use it
        help="move a folder store to a new SQLite database, or a folder or SQLite store to a "
        "PostgreSQL/MySQL database (verified; the old store is not changed)",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--to",
        metavar="FILE.db|URL",
        help="the new SQLite file (default: in the data dir) or an empty database, "
        "postgresql://user@host:port/db (password from MLFLOW_LAUNCHER_DB_PASSWORD or a prompt)",
    )
    p.add_argument(
        "--artifacts",
        metavar="DIR",
        help="for a database: the artifacts location colleagues can reach (default: the "
        "project's, else where the artifacts already are; they are never copied)",
    )
    p.add_argument(
        "--switch",
        action="store_true",
        help="point the project at the new database; keep the old store as 'NAME (folder)' "
        "or 'NAME (sqlite)'",
    )
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    if args.switch:
        refuse_team_edit(config, store.paths, args.name)
    project = find_project(config, store.paths, args.name)
    if to_database.is_database_url(args.to):
        return database.run(args, store, project)
    try:
        the_plan = to_sqlite.plan(project, store.paths, args.to)
    except MoveError as exc:
        err(f"error: {exc}")
        return EXIT_FAIL
    if the_plan.warning:
        err(f"warning: {the_plan.warning}")
    err(f"Moving {the_plan.source} to {the_plan.target} (Ctrl-C cancels)...")
    result = shared.run_move(
        lambda progress, cancel: to_sqlite.move(
            the_plan, store.paths, progress=progress, cancel=cancel
        ),
        "Cancelled; no database was written and the project is unchanged.",
        lambda exc: f"error: {exc}",
    )
    if result is None:
        return EXIT_FAIL
    switched = None
    if result.ok and args.switch:
        switched = shared.switch(store, project.name, str(the_plan.target))
    shared.print_result(result, args.json, project.name, str(the_plan.target), switched)
    if result.ok and not switched and not args.json:
        print(
            f"The project still serves the folder. Switch with: mlflow-launcher edit "
            f"{project.name!r} --store {str(the_plan.target)!r}"
        )
    return EXIT_OK if result.ok else EXIT_FAIL
