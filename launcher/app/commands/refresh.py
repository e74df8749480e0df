"""``mlflow-launcher refresh NAME``: rebuild a fast view now; and the first
``serve`` of a fast-view project, which builds one (with progress) before the URL is printed.

A server already serving the project keeps its view until it is restarted: the new one is
a new file, complete before it gets its name (see launcher.server.stores.fast_view).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, UsageError, err, find_project, load
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.stores import fast_view
from launcher.server.stores.move.child_run import MoveError, Step


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("refresh", help="rebuild a fast-view project's view now")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    project = find_project(load(store), store.paths, args.name)
    if not project.fast_view:
        raise UsageError(
            f"{project.name!r} has no fast view; turn it on with: mlflow-launcher edit "
            f"{project.name!r} --fast-view"
        )
    return EXIT_OK if build(project, store.paths) else EXIT_FAIL


def ensure(project: Project, paths: AppPaths) -> bool:
    """Before the first ``serve`` of a fast-view project: build its view with progress."""
    if not project.fast_view or fast_view.latest(paths, project) is not None:
        return True
    err(f"{project.name!r} is a fast view: building its view of {project.store}...")
    return build(project, paths)


def build(project: Project, paths: AppPaths) -> bool:
    live = sys.stderr.isatty()

    def progress(step: Step) -> None:
        if live:
            print(f"\r{step.describe():<60}", end="", file=sys.stderr, flush=True)

    started = time.monotonic()
    cancel = threading.Event()
    try:
        view = fast_view.refresh(project, paths, progress=progress, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        err("\nCancelled; the previous view (if any) is unchanged.")
        return False
    except MoveError as exc:
        err(("\n" if live else "") + f"error: {exc}")
        return False
    if live:
        err("")
    print(
        f"Fast view of {project.store} made ({view.label}) in "
        f"{time.monotonic() - started:.1f} s: {view.path}. It is served read-only; artifacts "
        "are read from the store's own location.",
        file=sys.stderr,
    )
    return True
