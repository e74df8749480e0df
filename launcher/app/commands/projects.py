"""``list``, ``add``, ``edit`` and ``remove``: the projects themselves, in the user's config.

A relative store path is made absolute here, because only the command line has a working
directory to resolve it against; the settings dialog always has a full path.
"""

from __future__ import annotations

import argparse
import json
import os

from launcher.app.commands.common import (
    EXIT_OK,
    UsageError,
    err,
    load,
    note_stale,
    refuse_team_edit,
)
from launcher.app.commands.credentials import give_missing
from launcher.model import catalog
from launcher.model.catalog import Catalogs
from launcher.model.config import Config, ConfigStore
from launcher.model.extra_args import split_args
from launcher.model.project import Project, validate
from launcher.model.stores import StoreError, parse_store, redact


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list projects")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_list)

    for name, help_text in (("add", "add a project"), ("edit", "change a project")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("name", metavar="NAME")
        if name == "add":
            p.add_argument("store", metavar="STORE", help="folder, UNC path, SQLite file or URI")
            p.add_argument(
                "--password-stdin",
                action="store_true",
                help="read the password of a database or server URL with a user from stdin",
            )
            p.add_argument(
                "--all-workspaces",
                action="store_true",
                help="add one project per workspace of the database or team server, named "
                "'NAME: WORKSPACE'",
            )
        else:
            p.add_argument("--name", dest="new_name", help="rename the project")
            p.add_argument("--store", help="folder, UNC path, SQLite file or URI")
        _add_options(p)
        p.set_defaults(handler=run_add if name == "add" else run_edit)

    p = sub.add_parser("remove", help="remove a project (its store is not touched)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=run_remove)


def _add_options(p: argparse.ArgumentParser) -> None:
    """The project's settings, the same for ``add`` and ``edit``."""
    p.add_argument("--prefix", help="experiment-name prefix (the project's folder)")
    p.add_argument("--python", help="Python interpreter to run MLflow from ('' = own)")
    p.add_argument("--artifacts", help="where uploaded artifacts go ('' = data dir)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1: this PC only)")
    p.add_argument("--port", type=int, help="fixed port (0 = a free one each start)")
    p.add_argument("--server-args", help="extra `mlflow server` options, as one quoted string")
    p.add_argument(
        "--workspace",
        help="one MLflow workspace of a database or team server ('' = the whole store)",
    )
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


def run_list(args: argparse.Namespace, store: ConfigStore) -> int:
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
    fields = (
        "prefix",
        "python",
        "artifacts",
        "host",
        "port",
        "access_key",
        "fast_view",
        "workspace",
    )
    for field in fields:
        value = getattr(args, field)
        if value is not None:
            setattr(project, field, value)
    if args.server_args is not None:
        try:
            project.extra_args = split_args(args.server_args)
        except ValueError as exc:
            raise UsageError(f"--server-args: {exc}") from exc


def run_add(args: argparse.Namespace, store: ConfigStore) -> int:
    project = Project(name=args.name, store=_absolute_store(args.store))
    _apply_options(project, args)
    validate(project)
    load(store)  # report a moved-aside config before changing it
    _pin_certificate(project, store)
    if args.all_workspaces:
        return _add_workspaces(project, args, store)
    store.update(lambda config: config.add(project))
    print(f"Added {project.name!r}: {project.parsed_store().display}")
    give_missing(store, [project], args.password_stdin, local=True)
    _offer_workspaces(project)
    return EXIT_OK


def _add_workspaces(project: Project, args: argparse.Namespace, store: ConfigStore) -> int:
    """One project per workspace the store lists (``default`` only if it holds experiments)."""
    from launcher.server.stores import workspaces

    give_missing(store, [project], args.password_stdin, local=True)
    try:
        names = workspaces.of_store(project.store)
    except workspaces.WorkspacesUnknown as exc:
        raise UsageError(f"--all-workspaces: {exc}") from exc
    added = [
        Project(**{**project.to_dict(), "name": f"{project.name}: {name}", "workspace": name})
        for name in names
        if name != "default"
    ]
    if not added:
        raise UsageError("--all-workspaces: the store has no workspace besides 'default'")

    def change(config: Config) -> None:
        for one in added:
            config.add(one)

    store.update(change)
    for one in added:
        print(f"Added {one.name!r}: workspace {one.workspace!r} of {one.parsed_store().display}")
    return EXIT_OK


def _offer_workspaces(project: Project) -> None:
    """A SQLite file or team server with workspaces, added whole: say how to add one of them."""
    from launcher.model.stores import StoreKind
    from launcher.server.stores import workspaces

    if project.workspace or project.parsed_store().kind not in (
        StoreKind.SQLITE,
        StoreKind.REMOTE,
    ):
        return
    try:
        names = [n for n in workspaces.of_store(project.store, timeout=5) if n != "default"]
    except workspaces.WorkspacesUnknown:
        return
    if names:
        print(
            f"It has workspaces {', '.join(names)}: add one as a project with --workspace NAME, "
            "or each with --all-workspaces."
        )


def _pin_certificate(project: Project, store: ConfigStore) -> None:
    """An https server's certificate, pinned now (trust on first use) with its fingerprint."""
    from launcher.model import tls_pin
    from launcher.server import tls

    url = project.parsed_store().uri
    if tls_pin.origin(url) is None:
        return
    try:
        found = tls.pin_on_first_use(url, store.paths)
    except tls_pin.CertificateChanged as exc:
        err(f"warning: {exc}")
        return
    except OSError as exc:
        err(
            f"note: the server does not answer now ({exc}); its certificate is pinned on first use."
        )
        return
    if found:
        path, fingerprint = found
        print(
            f"Pinned its certificate (SHA-256 {fingerprint}) in {path}: compare it with the one "
            "the team server printed."
        )


def run_edit(args: argparse.Namespace, store: ConfigStore) -> int:
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


def run_remove(args: argparse.Namespace, store: ConfigStore) -> int:
    refuse_team_edit(load(store), store.paths, args.name)
    removed: list[Project] = []
    store.update(lambda config: removed.append(config.remove(args.name)))
    print(f"Removed {removed[0].name!r} (its store was not touched).")
    return EXIT_OK
