"""``discover``: find MLflow stores under a folder or share, and add them as projects.

Searching a share can take minutes, so progress goes to stderr (on a terminal) and Ctrl-C
cancels cleanly; nothing is added unless ``--add`` asks for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, UsageError, absolute_path, err, load
from launcher.model import catalog
from launcher.model.catalog import Catalogs
from launcher.model.config import Config, ConfigStore
from launcher.server.stores import discovery


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("discover", help="find MLflow stores under a folder or share")
    p.add_argument("root", metavar="ROOT", help="folder or share to search")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--depth",
        type=int,
        default=discovery.DEFAULT_DEPTH,
        help=f"how many folder levels below ROOT to search (default {discovery.DEFAULT_DEPTH})",
    )
    p.add_argument("--add", action="store_true", help="add every new store found as a project")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    root = absolute_path(args.root)
    if args.depth < 0:
        raise UsageError("--depth must be 0 or more.")
    if not os.path.isdir(root):
        raise UsageError(f"{root} is not a folder (or cannot be reached).")
    config = load(store)
    merged = catalog.merge(config.projects, Catalogs(store.paths).cached(config.catalogs))
    show_progress = sys.stderr.isatty() and not args.json

    def progress(p: discovery.Progress) -> None:
        if show_progress:
            print(f"\r{p.scanned} folders searched, {p.found} found", end="", file=sys.stderr)

    try:
        result = discovery.discover(
            root,
            args.depth,
            threading.Event(),
            progress,
            existing=[x.project for x in merged.projects],
        )
    except KeyboardInterrupt:
        err("\nerror: cancelled")
        return EXIT_FAIL
    if show_progress:
        err("")
    added: list[str] = []
    if args.add:
        new = [f for f in result.found if f.known_as is None]

        def change(c: Config) -> None:
            added.clear()
            for found in new:
                if c.find(found.name) is None:
                    c.add(found.to_project())
                    added.append(found.name)

        if new:
            store.update(change)
    if args.json:
        print(json.dumps({**result.to_dict(), "added": added}, indent=2, ensure_ascii=False))
    else:
        _print_found(result, added)
    return EXIT_OK


def _print_found(result: discovery.Discovery, added: list[str]) -> None:
    if not result.found:
        print(f"No MLflow stores under {result.root}.")
    width = max((len(f.name) for f in result.found), default=0)
    for f in result.found:
        count = "?" if f.experiments is None else str(f.experiments)
        state = (
            f"  (already project {f.known_as!r})"
            if f.known_as
            else ("  (added)" if f.name in added else "")
        )
        print(f"{f.name:<{width}}  {f.kind.value:<6} {count:>4} exp  {f.path}{state}")
    notes = [f"{result.scanned} folders searched"]
    if result.unreadable:
        notes.append(f"{result.unreadable} unreadable skipped")
    if result.depth_limited:
        notes.append("deeper folders not searched (--depth)")
    err("; ".join(notes) + ".")
    if result.found and not added and any(f.known_as is None for f in result.found):
        err("Add them with --add, or one by one with: mlflow-launcher add NAME STORE")
