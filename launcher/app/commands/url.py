"""``mlflow-launcher url NAME``: the running server's link, with its access key.

A lean server only lets in whoever holds its key. The tray's links carry it; this prints it for
everyone else: the URL to open (with the key, once) and the matching ``MLFLOW_TRACKING_TOKEN`` for
a script that logs through the server. It finds the server whether the tray or a ``serve`` in
another terminal started it (their keys are in user-only files, see
``launcher.server.access_key``).
"""

from __future__ import annotations

import argparse

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, err, find_project, load
from launcher.model.config import ConfigStore
from launcher.model.stores import StoreKind
from launcher.server import access_key


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("url", help="print a running project's URL with its access key")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    project = find_project(load(store), store.paths, args.name)
    parsed = project.parsed_store()
    if parsed.kind is StoreKind.REMOTE:
        print(parsed.uri + "/")
        err(f"note: {access_key.protection(project, remote=True, lean=None)[1]}")
        return EXIT_OK
    found = access_key.running(store.paths, project)
    if found is None:
        err(
            f"error: {project.name!r} is not running; start it from the tray or with "
            f"mlflow-launcher serve {project.name!r}"
        )
        return EXIT_FAIL
    print(found.keyed_url)
    if found.key:
        print(f"{access_key.TOKEN_ENV}={found.key}")
    else:
        why = "access key turned off" if not project.access_key else "served without a key"
        err(f"note: {why}: anyone on this PC can open it")
    return EXIT_OK
