"""``export`` and ``import``: projects written to a file for colleagues, and read back.

An export carries what means the same on every PC (name, store, prefix); a machine's Python
environment, host, port and artifacts stay behind, and so do stores in this launcher's own data
folder (``Local``), which mean nothing elsewhere.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from launcher.app.commands.common import EXIT_OK, UsageError, absolute_path, err, find_project, load
from launcher.model import catalog
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write projects to a file to share (no machine settings)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("names", metavar="NAME", nargs="*", help="projects to export (default: all)")
    p.set_defaults(handler=run_export)

    p = sub.add_parser("import", help="add projects from an exported file or catalog")
    p.add_argument("file", metavar="FILE")
    p.add_argument("names", metavar="NAME", nargs="*", help="projects to import (default: all)")
    p.set_defaults(handler=run_import)


def run_export(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    target = Path(absolute_path(args.file))
    if target == store.paths.config_file.absolute():
        raise UsageError("That is the launcher's own config file; export to another file.")
    if args.names:
        projects = [find_project(config, store.paths, n) for n in args.names]
    else:
        projects = [p for p in config.projects if not _own_store(p, store.paths)]
        left = [p.name for p in config.projects if p not in projects]
        if left:
            err(f"note: not exported (stores in this launcher's data folder): {', '.join(left)}")
    if not projects:
        raise UsageError("No projects to export.")
    written = catalog.write_export(target, projects)
    print(
        f"Exported {len(written)} project(s) to {target}: "
        + ", ".join(p.name for p in written)
        + " (Python environment, host, port and artifacts are left out: they are per machine)."
    )
    return EXIT_OK


def _own_store(project: Project, paths: AppPaths) -> bool:
    """A store in the launcher's data dir (like Local's) means nothing on another machine."""
    try:
        path = project.parsed_store().path
    except StoreError:
        return False
    return path is not None and paths.owns(Path(path))


def run_import(args: argparse.Namespace, store: ConfigStore) -> int:
    source = absolute_path(args.file)
    if not os.path.isfile(source):
        raise UsageError(f"{source} is not a file.")
    projects = catalog.read_file(source)
    load(store)  # report a moved-aside config before changing it
    results: list[catalog.ImportResult] = []

    def change(c: Config) -> None:
        results.clear()
        results.append(catalog.import_projects(c, projects, args.names))

    store.update(change)
    result = results[0]
    if result.skipped:
        err(f"note: kept the existing project(s) {', '.join(result.skipped)} as they are")
    names = ", ".join(p.name for p in result.added) or "none"
    print(f"Imported {len(result.added)} project(s) from {source}: {names}.")
    return EXIT_OK
