"""``mlflow-launcher migrate NAME [--to FILE.db] [--switch]``: a folder store to SQLite.

Progress on standard error, the verified report on standard output; Ctrl-C cancels and
leaves no file under the target's name. ``--switch`` points the project at the new database
only after the check passed, and keeps the folder store as "NAME (folder)".
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

from launcher.app.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    err,
    find_project,
    load,
    refuse_team_edit,
)
from launcher.model.config import Config, ConfigStore
from launcher.model.switch import switch_to_database
from launcher.server.stores import migration


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "migrate",
        help="move a folder store to a new SQLite database (verified; the folder is not changed)",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--to", metavar="FILE.db", help="the new database (default: in the data dir)")
    p.add_argument(
        "--switch",
        action="store_true",
        help="point the project at the new database; keep the folder as 'NAME (folder)'",
    )
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    if args.switch:
        refuse_team_edit(config, store.paths, args.name)
    project = find_project(config, store.paths, args.name)
    try:
        the_plan = migration.plan(project, store.paths, args.to)
    except migration.MigrationError as exc:
        err(f"error: {exc}")
        return EXIT_FAIL
    if the_plan.warning:
        err(f"warning: {the_plan.warning}")
    err(f"Moving {the_plan.source} to {the_plan.target} (Ctrl-C cancels)...")
    live = sys.stderr.isatty()
    last = [""]

    def progress(step: migration.Step) -> None:
        text = step.describe()
        if text == last[0]:
            return
        last[0] = text
        if live:
            print(f"\r{text:<60}", end="", file=sys.stderr, flush=True)
        elif step.phase in ("verify", "done") and not step.total:
            err(text)

    cancel = threading.Event()
    try:
        result = migration.migrate(the_plan, store.paths, progress=progress, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        err("\nCancelled; no database was written and the project is unchanged.")
        return EXIT_FAIL
    except migration.MigrationError as exc:
        if live:
            err("")
        err(f"error: {exc}")
        return EXIT_FAIL
    if live:
        err("")
    switched = None
    if result.ok and args.switch:
        kept: list[str] = []

        def change(c: Config) -> None:
            kept.clear()
            kept.append(switch_to_database(c, project.name, str(the_plan.target))[1].name)

        store.update(change)
        switched = kept[0]
    if args.json:
        print(json.dumps({**result.to_dict(), "kept_as": switched}, indent=2))
    else:
        print(result.report())
        if switched:
            print(
                f"{project.name!r} now serves {the_plan.target}; the folder store stays in the "
                f"menu as {switched!r}."
            )
        elif result.ok:
            print(
                f"The project still serves the folder. Switch with: mlflow-launcher edit "
                f"{project.name!r} --store {str(the_plan.target)!r}"
            )
    return EXIT_OK if result.ok else EXIT_FAIL
