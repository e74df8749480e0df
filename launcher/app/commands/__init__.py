"""Commands of the command line, one module per capability.

``launcher.app.cli`` holds the parser and the original project commands; a new capability
(a migration, an access key, ...) gets a module here with ``register(sub)``, which adds its
subparser(s) and sets ``handler`` on each: ``p.set_defaults(handler=run)`` where ``run`` takes
``(args, store)`` and returns an exit code. List the module in :data:`MODULES`.
"""

from __future__ import annotations

import argparse
import importlib

MODULES: tuple[str, ...] = ("quit", "config", "url", "migrate", "refresh", "credentials")
"""Names of the modules in this package that register commands, in help order."""


def register_all(sub: argparse._SubParsersAction) -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
