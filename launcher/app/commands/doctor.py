"""``doctor``: the pre-flight of a start, run without starting, as a report.

The checks are ``launcher.server.checks.preflight``'s, the same a start runs, so the sentence
doctor prints for a problem is the one a failed start shows.
"""

from __future__ import annotations

import argparse
import json

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, find_project, load
from launcher.model.config import ConfigStore
from launcher.server.checks import doctor


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check a project's store without serving it")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    project = find_project(load(store), store.paths, args.name)
    report = doctor.diagnose(project, store.paths)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format())
    return EXIT_OK if report.ok else EXIT_FAIL
