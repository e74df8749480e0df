"""The command line: the headless face of the launcher, and what scripts and CI call.

This module only builds the parser and dispatches; every command lives in
``launcher.app.commands``, one module per capability, and reports its errors through the
exceptions caught here.

Exit codes: 0 ok, 1 a runtime failure (one line saying why), 2 bad usage or bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from launcher import __version__
from launcher.app import commands
from launcher.app.commands.common import EXIT_FAIL, EXIT_USAGE, UsageError, err
from launcher.model.catalog import CatalogInvalid, CatalogUnreadable
from launcher.model.config import ConfigStore
from launcher.model.naming import NamingError
from launcher.model.paths import AppPaths, app_paths
from launcher.model.project import ProjectError
from launcher.model.stores import StoreError
from launcher.server.checks.failures import ServerFailed
from launcher.server.stores.experiments import StoreNotReadable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlflow-launcher",
        description="Start the MLflow UI for named projects. With no command: the tray app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.register_all(sub)
    return parser


def run_cli(argv: Sequence[str], paths: AppPaths | None = None) -> int:
    args = build_parser().parse_args(list(argv))
    paths = paths or app_paths()
    store = ConfigStore(paths)
    handler: Callable[[argparse.Namespace, ConfigStore], int] = args.handler
    try:
        return handler(args, store)
    except (UsageError, ProjectError, StoreError, NamingError, CatalogInvalid) as exc:
        err(f"error: {exc}")
        return EXIT_USAGE
    except ServerFailed as exc:
        err(f"error: {exc.failure}")
        return EXIT_FAIL
    except (OSError, CatalogUnreadable, StoreNotReadable) as exc:
        err(f"error: {exc}")
        return EXIT_FAIL
