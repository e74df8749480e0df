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
import webbrowser
from collections.abc import Callable, Sequence
from types import FrameType

from launcher import __version__
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths, app_paths
from launcher.model.project import Project, ProjectError, validate
from launcher.model.stores import StoreError, parse_store, redact
from launcher.server import doctor
from launcher.server.failures import ServerFailed
from launcher.server.process import READY_TIMEOUT, MlflowServer

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input: reported in one line, exit code 2."""


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

    p = sub.add_parser("remove", help="remove a project (its store is not touched)")
    p.add_argument("name", metavar="NAME")

    p = sub.add_parser("serve", help="serve a project in the foreground")
    p.add_argument("name", metavar="NAME")
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
    return parser


def run_cli(argv: Sequence[str], paths: AppPaths | None = None) -> int:
    args = build_parser().parse_args(list(argv))
    paths = paths or app_paths()
    store = ConfigStore(paths)
    handler: Callable[[argparse.Namespace, ConfigStore], int] = _COMMANDS[args.command]
    try:
        return handler(args, store)
    except (UsageError, ProjectError, StoreError) as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except ServerFailed as exc:
        _err(f"error: {exc.failure}")
        return EXIT_FAIL
    except OSError as exc:
        _err(f"error: {exc}")
        return EXIT_FAIL


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _load(store: ConfigStore) -> Config:
    loaded = store.load()
    if loaded.problem:
        _err(f"note: {loaded.problem}")
    return loaded.config


def _cmd_list(args: argparse.Namespace, store: ConfigStore) -> int:
    config = _load(store)
    rows = []
    for project in config.projects:
        try:
            parsed = project.parsed_store()
            kind, uri = parsed.kind.value, redact(parsed.uri)
        except StoreError as exc:
            kind, uri = "invalid", str(exc)
        rows.append({**project.to_dict(), "store": redact(project.store), "kind": kind, "uri": uri})
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("No projects. Add one: mlflow-launcher add NAME STORE")
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        prefix = f"  prefix={row['prefix']}" if row["prefix"] else ""
        print(f"{row['name']:<{width}}  {row['kind']:<7} {row['store']}{prefix}")
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
    for field in ("prefix", "python", "artifacts", "host", "port"):
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
    _load(store)  # report a moved-aside config before changing it
    store.update(lambda config: config.add(project))
    print(f"Added {project.name!r}: {project.parsed_store().display}")
    return EXIT_OK


def _cmd_edit(args: argparse.Namespace, store: ConfigStore) -> int:
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
    removed: list[Project] = []
    store.update(lambda config: removed.append(config.remove(args.name)))
    print(f"Removed {removed[0].name!r} (its store was not touched).")
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace, store: ConfigStore) -> int:
    project = _load(store).get(args.name)
    report = doctor.diagnose(project, store.paths)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format())
    return EXIT_OK if report.ok else EXIT_FAIL


def _cmd_serve(args: argparse.Namespace, store: ConfigStore) -> int:
    project = _load(store).get(args.name)
    server = MlflowServer(
        project, store.paths, upgrade_schema=args.upgrade_schema, ready_timeout=args.timeout
    )
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise _Terminate()

    signal.signal(signal.SIGTERM, on_term)
    try:
        _err(f"Starting {project.name!r} ({project.parsed_store().display})...")
        url = server.start()
        print(url, flush=True)
        _remember(store, project.name)
        if not args.no_browser:
            webbrowser.open(url)
        if server.lean is None:  # a remote server: nothing of ours to keep running
            return EXIT_OK
        _err(f"Serving {project.name!r}; log: {server.log_path}. Ctrl-C stops it.")
        server.wait()
        if server.failure is not None:
            _err(f"error: the server exited: {server.failure}")
            return EXIT_FAIL
        return EXIT_OK
    except (KeyboardInterrupt, _Terminate):
        _err("Stopping...")
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


_COMMANDS: dict[str, Callable[[argparse.Namespace, ConfigStore], int]] = {
    "list": _cmd_list,
    "add": _cmd_add,
    "edit": _cmd_edit,
    "remove": _cmd_remove,
    "serve": _cmd_serve,
    "doctor": _cmd_doctor,
}
