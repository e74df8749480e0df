"""``serve``: one project's server in the foreground, until Ctrl-C or SIGTERM.

What scripts, CI and people without a desktop use. The link printed on stdout carries the
server's access key: it is the line people click.
"""

from __future__ import annotations

import argparse
import contextlib
import webbrowser

from launcher.app.commands import refresh
from launcher.app.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    err,
    find_project,
    in_foreground,
    load,
    until_it_exits,
)
from launcher.model.config import Config, ConfigStore, last_used
from launcher.server.access_key import with_key
from launcher.server.process import READY_TIMEOUT, MlflowServer
from launcher.server.stores import experiments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve a project in the foreground")
    p.add_argument("name", metavar="NAME", nargs="?", help="default: the last used project")
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.add_argument(
        "--upgrade-schema",
        action="store_true",
        help="allow upgrading an old database schema (breaks older MLflow clients sharing it)",
    )
    p.add_argument("--timeout", type=float, default=READY_TIMEOUT, help="seconds to wait")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    project = find_project(config, store.paths, args.name or last_used(config))
    server = MlflowServer(
        project, store.paths, upgrade_schema=args.upgrade_schema, ready_timeout=args.timeout
    )

    def body() -> int:
        if not refresh.ensure(project, store.paths):  # a fast view's first view
            return EXIT_FAIL
        err(f"Starting {project.name!r} ({project.parsed_store().display})...")
        link = with_key(server.start(), server.access_key)
        print(link, flush=True)  # with its key: the line people click
        _remember(store, project.name)
        if not args.no_browser:
            # The project's own experiments when it has a prefix; the root otherwise.
            webbrowser.open(with_key(experiments.open_url_for(project, link), server.access_key))
        if server.lean is None:  # a remote server: nothing of ours to keep running
            return EXIT_OK
        err(f"Serving {project.name!r}; log: {server.log_path}. Ctrl-C stops it.")
        return until_it_exits(server)

    return in_foreground(server, body)


def _remember(store: ConfigStore, name: str) -> None:
    """The last served project is what a bare ``serve`` serves next time."""

    def change(config: Config) -> None:
        config.settings.last_project = name

    with contextlib.suppress(OSError):  # remembering is a convenience, never a failure
        store.update(change)
