"""The command line: the headless face of the launcher, and what scripts and CI call.

Exit codes: 0 ok, 1 a runtime failure (one line saying why), 2 bad usage or bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import threading
import webbrowser
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from launcher import __version__
from launcher.app import commands
from launcher.app.commands import refresh
from launcher.app.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    err,
    find_project,
    load,
    note_stale,
    refuse_team_edit,
)
from launcher.model import catalog
from launcher.model.catalog import CatalogInvalid, Catalogs, CatalogUnreadable
from launcher.model.config import Config, ConfigStore, last_used
from launcher.model.naming import NamingError
from launcher.model.paths import AppPaths, app_paths
from launcher.model.project import Project, ProjectError, validate
from launcher.model.stores import StoreError, parse_store, redact
from launcher.server.access_key import with_key
from launcher.server.checks import doctor
from launcher.server.checks.failures import ServerFailed
from launcher.server.process import READY_TIMEOUT, MlflowServer
from launcher.server.stores import discovery, experiments
from launcher.server.stores.experiments import StoreNotReadable


class _Terminate(Exception):
    """Raised from the SIGTERM handler so the foreground server is stopped cleanly."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlflow-launcher",
        description="Start the MLflow UI for named projects. With no command: the tray app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list projects")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    for name, help_text in (("add", "add a project"), ("edit", "change a project")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("name", metavar="NAME")
        if name == "add":
            p.add_argument("store", metavar="STORE", help="folder, UNC path, SQLite file or URI")
        else:
            p.add_argument("--name", dest="new_name", help="rename the project")
            p.add_argument("--store", help="folder, UNC path, SQLite file or URI")
        p.add_argument("--prefix", help="experiment-name prefix (the project's folder)")
        p.add_argument("--python", help="Python interpreter to run MLflow from ('' = own)")
        p.add_argument("--artifacts", help="where uploaded artifacts go ('' = data dir)")
        p.add_argument("--host", help="address to listen on (default 127.0.0.1: this PC only)")
        p.add_argument("--port", type=int, help="fixed port (0 = a free one each start)")
        p.add_argument("--server-args", help="extra `mlflow server` options, as one quoted string")
        p.add_argument(
            "--access-key",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="guard the server with a per-server key (default on; off for other tools "
            "pointed at a fixed port)",
        )
        p.add_argument(
            "--fast-view",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="serve a local read-only copy of a folder store (refresh: mlflow-launcher "
            "refresh NAME)",
        )

    p = sub.add_parser("remove", help="remove a project (its store is not touched)")
    p.add_argument("name", metavar="NAME")

    p = sub.add_parser("serve", help="serve a project in the foreground")
    p.add_argument("name", metavar="NAME", nargs="?", help="default: the last used project")
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.add_argument(
        "--upgrade-schema",
        action="store_true",
        help="allow upgrading an old database schema (breaks older MLflow clients sharing it)",
    )
    p.add_argument("--timeout", type=float, default=READY_TIMEOUT, help="seconds to wait")

    p = sub.add_parser("doctor", help="check a project's store without serving it")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser(
        "name",
        help="print the next experiment name by the convention PREFIX_STAGE_NUMBER_DESCRIPTION",
    )
    p.add_argument("name", metavar="NAME", help="the project")
    p.add_argument("--stage", required=True, help="pipeline stage, one word (e.g. train)")
    p.add_argument("--description", required=True, help="what the experiment is about")
    p.add_argument("--prefix", help="experiment prefix to use instead of the project's")

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

    p = sub.add_parser("export", help="write projects to a file to share (no machine settings)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("names", metavar="NAME", nargs="*", help="projects to export (default: all)")

    p = sub.add_parser("import", help="add projects from an exported file or catalog")
    p.add_argument("file", metavar="FILE")
    p.add_argument("names", metavar="NAME", nargs="*", help="projects to import (default: all)")

    p = sub.add_parser("catalog", help="team catalogs: shared project files to follow")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("add", help="subscribe to a catalog file")
    a.add_argument("path", metavar="PATH")
    a = actions.add_parser("remove", help="unsubscribe (the file is not touched)")
    a.add_argument("path", metavar="PATH")
    a = actions.add_parser("list", help="subscribed catalogs and their last known state")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a = actions.add_parser("refresh", help="read the catalogs again")
    a.add_argument("path", metavar="PATH", nargs="?", help="only this catalog")
    commands.register_all(sub)
    return parser


def run_cli(argv: Sequence[str], paths: AppPaths | None = None) -> int:
    args = build_parser().parse_args(list(argv))
    paths = paths or app_paths()
    store = ConfigStore(paths)
    handler: Callable[[argparse.Namespace, ConfigStore], int] = (
        getattr(args, "handler", None) or _COMMANDS[args.command]
    )
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


def _cmd_list(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    statuses = Catalogs(store.paths).refresh(config.catalogs)
    note_stale(statuses)
    rows = []
    for listed in catalog.merge(config.projects, statuses).projects:
        project = listed.project
        try:
            parsed = project.parsed_store()
            kind, uri = parsed.kind.value, redact(parsed.uri)
        except StoreError as exc:
            kind, uri = "invalid", str(exc)
        rows.append(
            {
                **project.to_dict(),
                "store": redact(project.store),
                "kind": kind,
                "uri": uri,
                "catalog": listed.catalog,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("No projects. Add one: mlflow-launcher add NAME STORE")
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        prefix = f"  prefix={row['prefix']}" if row["prefix"] else ""
        team = "  [team]" if row["catalog"] else ""
        print(f"{row['name']:<{width}}  {row['kind']:<7} {row['store']}{prefix}{team}")
    return EXIT_OK


def _absolute_store(text: str) -> str:
    """Validate a store and make a relative path absolute (the CLI has a working directory)."""
    parsed = parse_store(text, base=os.getcwd())
    try:
        parse_store(text)
    except StoreError:
        return parsed.path or parsed.uri
    return text.strip()


def _apply_options(project: Project, args: argparse.Namespace) -> None:
    for field in ("prefix", "python", "artifacts", "host", "port", "access_key", "fast_view"):
        value = getattr(args, field)
        if value is not None:
            setattr(project, field, value)
    if args.server_args is not None:
        try:
            project.extra_args = shlex.split(args.server_args, posix=os.name != "nt")
        except ValueError as exc:
            raise UsageError(f"--server-args: {exc}") from exc


def _cmd_add(args: argparse.Namespace, store: ConfigStore) -> int:
    project = Project(name=args.name, store=_absolute_store(args.store))
    _apply_options(project, args)
    validate(project)
    load(store)  # report a moved-aside config before changing it
    store.update(lambda config: config.add(project))
    print(f"Added {project.name!r}: {project.parsed_store().display}")
    return EXIT_OK


def _cmd_edit(args: argparse.Namespace, store: ConfigStore) -> int:
    refuse_team_edit(load(store), store.paths, args.name)

    def change(config: Config) -> None:
        current = config.get(args.name)
        project = Project(**current.to_dict())
        if args.new_name is not None:
            project.name = args.new_name
        if args.store is not None:
            project.store = _absolute_store(args.store)
        _apply_options(project, args)
        validate(project)
        config.replace(current.name, project)

    config = store.update(change)
    print(f"Saved {config.get(args.new_name or args.name).name!r}.")
    return EXIT_OK


def _cmd_remove(args: argparse.Namespace, store: ConfigStore) -> int:
    refuse_team_edit(load(store), store.paths, args.name)
    removed: list[Project] = []
    store.update(lambda config: removed.append(config.remove(args.name)))
    print(f"Removed {removed[0].name!r} (its store was not touched).")
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace, store: ConfigStore) -> int:
    project = find_project(load(store), store.paths, args.name)
    report = doctor.diagnose(project, store.paths)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format())
    return EXIT_OK if report.ok else EXIT_FAIL


def _cmd_serve(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    project = find_project(config, store.paths, args.name or last_used(config))
    server = MlflowServer(
        project, store.paths, upgrade_schema=args.upgrade_schema, ready_timeout=args.timeout
    )
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise _Terminate()

    signal.signal(signal.SIGTERM, on_term)
    try:
        if not refresh.ensure(project, store.paths):  # a fast view's first view
            return EXIT_FAIL
        err(f"Starting {project.name!r} ({project.parsed_store().display})...")
        url = server.start()
        print(with_key(url, server.access_key), flush=True)  # with its key: the line people click
        _remember(store, project.name)
        if not args.no_browser:
            # The project's own experiments when it has a prefix; the root otherwise.
            webbrowser.open(with_key(experiments.open_url_for(project, url), server.access_key))
        if server.lean is None:  # a remote server: nothing of ours to keep running
            return EXIT_OK
        err(f"Serving {project.name!r}; log: {server.log_path}. Ctrl-C stops it.")
        server.wait()
        if server.failure is not None:
            err(f"error: the server exited: {server.failure}")
            return EXIT_FAIL
        return EXIT_OK
    except (KeyboardInterrupt, _Terminate):
        err("Stopping...")
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.stop()
        signal.signal(signal.SIGTERM, previous)


def _remember(store: ConfigStore, name: str) -> None:
    def change(config: Config) -> None:
        config.settings.last_project = name

    with contextlib.suppress(OSError):  # remembering is a convenience, never a failure
        store.update(change)


def _cmd_name(args: argparse.Namespace, store: ConfigStore) -> int:
    project = find_project(load(store), store.paths, args.name)
    name = experiments.propose_name(
        project, args.stage, args.description, store.paths, prefix=args.prefix
    )
    print(name)
    return EXIT_OK


def _cmd_discover(args: argparse.Namespace, store: ConfigStore) -> int:
    root = _absolute_path(args.root)
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


def _absolute_path(text: str) -> str:
    text = text.strip()
    if text.startswith(("\\\\", "//")):
        return text  # a share: already absolute, and abspath would mangle it off Windows
    return os.path.abspath(os.path.expanduser(text))


def _cmd_export(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    target = Path(_absolute_path(args.file))
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


def _cmd_import(args: argparse.Namespace, store: ConfigStore) -> int:
    source = _absolute_path(args.file)
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


def _cmd_catalog(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    catalogs = Catalogs(store.paths)
    if args.action == "list":
        statuses = catalogs.cached(config.catalogs)
        if args.json:
            rows = [
                {
                    "path": s.source,
                    "projects": [p.name for p in s.projects],
                    "fetched_at": s.fetched_at,
                    "error": s.error,
                }
                for s in statuses
            ]
            print(json.dumps(rows, indent=2, ensure_ascii=False))
        elif not statuses:
            print("No team catalogs. Subscribe to one: mlflow-launcher catalog add PATH")
        for status in [] if args.json else statuses:
            print(status.describe())
        return EXIT_OK
    if args.action == "refresh":
        sources = config.catalogs
        if args.path:
            sources = [_subscribed(config, args.path)]
        statuses = catalogs.refresh(sources)
        for status in statuses:
            print(status.describe())
        failed = [s for s in statuses if s.stale]
        if failed:
            err(f"error: {len(failed)} catalog(s) could not be read; last known copies kept")
            return EXIT_FAIL
        return EXIT_OK
    if args.action == "remove":
        source = _subscribed(config, args.path)
        store.update(lambda c: c.catalogs.remove(source) if source in c.catalogs else None)
        catalogs.forget(source)
        print(f"Unsubscribed from {source} (the file was not touched).")
        return EXIT_OK
    source = _absolute_path(args.path)
    if any(_same_path(source, c) for c in config.catalogs):
        print(f"Already subscribed to {source}.")
        return EXIT_OK
    if not os.path.isfile(source):
        raise UsageError(f"{source} is not a file.")
    catalog.read_file(source)  # a typo or a broken file is refused before it is saved

    def change(c: Config) -> None:
        if source not in c.catalogs:
            c.catalogs.append(source)

    config = store.update(change)
    status = catalogs.refresh_one(source)
    merged = catalog.merge(config.projects, catalogs.cached(config.catalogs))
    names = ", ".join(p.name for p in status.projects) or "none"
    print(f"Subscribed to {source}: {len(status.projects)} team project(s): {names}.")
    hidden = [x.project.name for x in merged.shadowed if x.catalog == source]
    if hidden:
        err(f"note: a local project of the same name wins over: {', '.join(hidden)}")
    return EXIT_OK


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


def _subscribed(config: Config, text: str) -> str:
    for candidate in (text, _absolute_path(text)):
        for source in config.catalogs:
            if _same_path(candidate, source):
                return source
    known = ", ".join(config.catalogs) or "none"
    raise UsageError(f"Not subscribed to {text} (catalogs: {known}).")


_COMMANDS: dict[str, Callable[[argparse.Namespace, ConfigStore], int]] = {
    "list": _cmd_list,
    "add": _cmd_add,
    "edit": _cmd_edit,
    "remove": _cmd_remove,
    "serve": _cmd_serve,
    "doctor": _cmd_doctor,
    "name": _cmd_name,
    "discover": _cmd_discover,
    "export": _cmd_export,
    "import": _cmd_import,
    "catalog": _cmd_catalog,
}
