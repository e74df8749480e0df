"""``team-grant NAME USER WORKSPACE``: a login of a team server with workspaces gets a
workspace (``launcher.server.team_access``), asked of the running server with the admin's login.

``--create`` makes the login first (its password from stdin); ``--level`` is MLflow's READ, USE
(the default: read everything, create experiments and models) or MANAGE.
"""

from __future__ import annotations

import argparse

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, UsageError, err, find_project, load
from launcher.app.commands.credentials import read_password
from launcher.model import credentials
from launcher.model.config import ConfigStore
from launcher.server import team_access
from launcher.server import team_server as team


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "team-grant",
        help="give a team server's login a workspace (READ, USE or MANAGE)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("name", metavar="NAME", help="the project the team server serves")
    p.add_argument("user", metavar="USER")
    p.add_argument("workspace", metavar="WORKSPACE")
    p.add_argument("--level", choices=team_access.LEVELS, default="USE")
    p.add_argument("--port", type=int, default=team.DEFAULT_PORT)
    p.add_argument("--admin", default=team.DEFAULT_ADMIN)
    p.add_argument("--plain-http", action="store_true", help="the server runs --plain-http")
    p.add_argument(
        "--create", action="store_true", help="create the login first (its password from stdin)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    find_project(load(store), store.paths, args.name)
    settings = team.TeamSettings(port=args.port, admin=args.admin, tls=not args.plain_http)
    password = credentials.password_for(team.admin_url(settings))
    if not password:
        raise UsageError(
            f"no password kept for the admin {args.admin!r} on this PC: run team-grant where "
            "the team server runs"
        )
    base = f"{settings.scheme}://127.0.0.1:{args.port}"
    admin = (args.admin, password)
    try:
        if args.create:
            new = read_password(True, "")
            if len(new) < team.MIN_PASSWORD:
                raise UsageError(f"a password needs at least {team.MIN_PASSWORD} characters")
            team_access.create_user(base, admin, args.user, new)
        team_access.grant(base, admin, args.user, args.workspace, args.level)
    except (team_access.AccessError, OSError) as exc:
        err(f"error: the team server refused: {exc}")
        return EXIT_FAIL
    print(f"{args.user!r} has {args.level} on workspace {args.workspace!r}.")
    return EXIT_OK
