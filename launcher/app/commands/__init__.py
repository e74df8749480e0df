"""Commands of the command line, one module per capability.

``launcher.app.cli`` only parses and dispatches; every command lives here. A module's
``register(sub)`` adds its subparser(s) and sets ``handler`` on each:
``p.set_defaults(handler=run)`` where ``run`` takes ``(args, store)`` and returns an exit code.
A new capability (a move, an access key, ...) gets a module of its own, listed in
:data:`MODULES`; what the commands share is in ``common``.
"""

from __future__ import annotations

import argparse
import importlib

MODULES: tuple[str, ...] = (
    "projects",
    "serve",
    "doctor",
    "naming",
    "discover",
    "sharing",
    "catalog",
    "quit",
    "config",
    "url",
    "move.command",
    "move.gather",
    "refresh",
    "credentials",
    "team.server",
    "team.grant",
    "update",
    "runs.command",
)
"""Names of the modules in this package that register commands, in help order."""


def register_all(sub: argparse._SubParsersAction) -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
