"""``mlflow-launcher gather NAME... --to URL``: several projects' stores into one database, one
MLflow workspace per project (``launcher.server.stores.move.gather``).

Progress on standard error, the verified report per workspace on standard output; Ctrl-C
cancels the project being copied (its workspace is not made) and starts no other. The sources
are only read and the projects are not changed: serve the result with ``team-server``.
"""

from __future__ import annotations

import argparse

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, UsageError, err, find_project, load
from launcher.app.commands.move import shared
from launcher.app.commands.move.database import _password
from launcher.model.config import ConfigStore
from launcher.model.project import Project
from launcher.model.stores import StoreKind
from launcher.server.stores.move import gather
from launcher.server.stores.move.child_run import MoveError, Step


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gather",
        help="gather several projects' folder or SQLite stores into one database, a workspace "
        "per project (verified; the stores are not changed)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("names", metavar="NAME", nargs="*", help="the projects (default: --all)")
    p.add_argument("--all", action="store_true", help="every project with a folder or SQLite store")
    p.add_argument(
        "--discover",
        metavar="ROOT",
        help="every folder or SQLite store found under ROOT (a share), named as discover names "
        "them (or as the project that already uses it)",
    )
    p.add_argument(
        "--to",
        metavar="FILE.db|URL",
        required=True,
        help="a SQLite file on this PC or a database, postgresql://user@host:port/db; it may "
        "hold other workspaces (password from MLFLOW_LAUNCHER_DB_PASSWORD or a prompt)",
    )
    p.add_argument(
        "--workspace",
        metavar="NAME=WORKSPACE",
        action="append",
        default=[],
        help="the workspace of a project (default: its name, lowercase with hyphens)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    if args.discover:
        projects = _discovered(args.discover, config.projects)
    elif args.names:
        projects = [find_project(config, store.paths, name) for name in args.names]
    elif args.all:
        kinds = (StoreKind.FOLDER, StoreKind.SQLITE)
        projects = [p for p in config.projects if _kind(p.store) in kinds]
    else:
        raise UsageError("name the projects to gather, or --all")
    named: dict[str, str] = {}
    for item in args.workspace:
        name, eq, workspace = item.partition("=")
        if not eq or not workspace:
            raise UsageError(f"--workspace {item!r}: give NAME=WORKSPACE")
        named[name] = workspace
    target = args.to if "://" in args.to else str(_absolute(args.to))
    try:
        plans = gather.plan(
            projects, store.paths, target, password=_password(target), workspaces=named
        )
    except MoveError as exc:
        err(f"error: {exc}")
        return EXIT_FAIL
    err(f"Gathering {len(plans)} projects into {plans[0].target} (Ctrl-C cancels)...")
    for the_plan in plans:
        err(f"  {the_plan.project.name} ({the_plan.source}) -> workspace {the_plan.workspace!r}")
    printer = shared.progress_printer()

    def progress(workspace: str, step: Step) -> None:
        printer(step)

    result = shared.run_move(
        lambda _progress, cancel: gather.gather(
            plans, store.paths, progress=progress, cancel=cancel
        ),
        "Cancelled; the workspace being copied was not made.",
        lambda exc: f"error: {exc}",
    )
    if result is None:
        return EXIT_FAIL
    if args.json:
        import json

        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.report())
    return EXIT_OK if result.ok else EXIT_FAIL


def _discovered(root: str, existing: list[Project]) -> list[Project]:
    import threading

    from launcher.app.commands.common import absolute_path
    from launcher.server.stores import discovery

    try:
        found = discovery.discover(absolute_path(root), cancel=threading.Event(), existing=existing)
    except NotADirectoryError as exc:
        raise UsageError(str(exc)) from exc
    stores = [f for f in found.found if not f.workspace]
    if not stores:
        raise UsageError(f"no folder or SQLite store under {root}")
    return [Project(f.known_as or f.name, f.path) for f in stores]


def _kind(text: str) -> StoreKind | None:
    from launcher.model.stores import StoreError, parse_store

    try:
        return parse_store(text).kind
    except StoreError:
        return None


def _absolute(text: str) -> object:
    from pathlib import Path

    return Path(text).expanduser().absolute()
