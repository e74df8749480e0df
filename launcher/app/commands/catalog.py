"""``catalog add|remove|list|refresh``: team catalogs, shared project files a user follows.

A catalog's projects show beside the user's own (a local project of the same name wins); the
last copy read is kept, so an offline share still lists its projects, marked stale.
"""

from __future__ import annotations

import argparse
import json
import os

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, UsageError, absolute_path, err, load
from launcher.app.commands.credentials import give_missing
from launcher.model import catalog
from launcher.model.catalog import Catalogs
from launcher.model.config import Config, ConfigStore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("catalog", help="team catalogs: shared project files to follow")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("add", help="subscribe to a catalog file")
    a.add_argument("path", metavar="PATH")
    a.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the missing database or server passwords from stdin, one line each",
    )
    a = actions.add_parser("remove", help="unsubscribe (the file is not touched)")
    a.add_argument("path", metavar="PATH")
    a = actions.add_parser("list", help="subscribed catalogs and their last known state")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a = actions.add_parser("refresh", help="read the catalogs again")
    a.add_argument("path", metavar="PATH", nargs="?", help="only this catalog")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    if args.action == "list":
        return _list(args, config, Catalogs(store.paths))
    if args.action == "refresh":
        return _refresh(args, config, Catalogs(store.paths))
    if args.action == "remove":
        source = _subscribed(config, args.path)
        store.update(lambda c: c.catalogs.remove(source) if source in c.catalogs else None)
        Catalogs(store.paths).forget(source)
        print(f"Unsubscribed from {source} (the file was not touched).")
        return EXIT_OK
    return _add(args, config, store)


def _list(args: argparse.Namespace, config: Config, catalogs: Catalogs) -> int:
    statuses = catalogs.cached(config.catalogs)
    if args.json:
        rows = [
            {
                "path": s.source,
                "projects": [p.name for p in s.projects],
                "fetched_at": s.fetched_at,
                "error": s.error,
            }
            for s in statuses
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not statuses:
        print("No team catalogs. Subscribe to one: mlflow-launcher catalog add PATH")
    for status in statuses:
        print(status.describe())
    return EXIT_OK


def _refresh(args: argparse.Namespace, config: Config, catalogs: Catalogs) -> int:
    sources = [_subscribed(config, args.path)] if args.path else config.catalogs
    statuses = catalogs.refresh(sources)
    for status in statuses:
        print(status.describe())
    failed = [s for s in statuses if s.stale]
    if failed:
        err(f"error: {len(failed)} catalog(s) could not be read; last known copies kept")
        return EXIT_FAIL
    return EXIT_OK


def _add(args: argparse.Namespace, config: Config, store: ConfigStore) -> int:
    source = absolute_path(args.path)
    if any(_same_path(source, c) for c in config.catalogs):
        print(f"Already subscribed to {source}.")
        return EXIT_OK
    if not os.path.isfile(source):
        raise UsageError(f"{source} is not a file.")
    catalog.read_file(source)  # a typo or a broken file is refused before it is saved

    def change(c: Config) -> None:
        if source not in c.catalogs:
            c.catalogs.append(source)

    config = store.update(change)
    catalogs = Catalogs(store.paths)
    status = catalogs.refresh_one(source)
    merged = catalog.merge(config.projects, catalogs.cached(config.catalogs))
    names = ", ".join(p.name for p in status.projects) or "none"
    print(f"Subscribed to {source}: {len(status.projects)} team project(s): {names}.")
    hidden = [x.project.name for x in merged.shadowed if x.catalog == source]
    if hidden:
        err(f"note: a local project of the same name wins over: {', '.join(hidden)}")
    mine = [x.project for x in merged.projects if x.catalog == source]
    give_missing(store, mine, args.password_stdin, local=False)
    return EXIT_OK


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


def _subscribed(config: Config, text: str) -> str:
    for candidate in (text, absolute_path(text)):
        for source in config.catalogs:
            if _same_path(candidate, source):
                return source
    known = ", ".join(config.catalogs) or "none"
    raise UsageError(f"Not subscribed to {text} (catalogs: {known}).")
