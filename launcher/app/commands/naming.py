"""``name``: the next experiment name by the team's convention PREFIX_STAGE_NUMBER_DESCRIPTION.

MLflow has no folder above experiments, so teams encode the project in the name; the number is
the next free one in the project's store (``launcher.server.stores.experiments``).
"""

from __future__ import annotations

import argparse

from launcher.app.commands.common import EXIT_OK, find_project, load
from launcher.model.config import ConfigStore
from launcher.server.stores import experiments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "name",
        help="print the next experiment name by the convention PREFIX_STAGE_NUMBER_DESCRIPTION",
    )
    p.add_argument("name", metavar="NAME", help="the project")
    p.add_argument("--stage", required=True, help="pipeline stage, one word (e.g. train)")
    p.add_argument("--description", required=True, help="what the experiment is about")
    p.add_argument("--prefix", help="experiment prefix to use instead of the project's")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    project = find_project(load(store), store.paths, args.name)
    name = experiments.propose_name(
        project, args.stage, args.description, store.paths, prefix=args.prefix
    )
    print(name)
    return EXIT_OK
