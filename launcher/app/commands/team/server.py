"""``team-server``: one ``mlflow server`` for the team, on its database, behind a login.

Runs in the foreground like ``serve`` (Ctrl-C or SIGTERM stops its whole tree); what it runs is
``launcher.server.team_server``'s. ``--write-unit systemd|task`` writes, instead of serving, a
systemd unit or a Windows scheduled task (``schtasks /Create /XML``) that runs this same command
at boot; neither holds a secret (the admin's password is needed only on the first start, and the
database's comes from the credential store or the private config).
"""

from __future__ import annotations

import argparse
import getpass
import os
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from launcher.app import autostart
from launcher.app.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    UsageError,
    err,
    find_project,
    in_foreground,
    load,
    until_it_exits,
)
from launcher.app.commands.credentials import read_password
from launcher.model import atomic, credentials, tls_pin
from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import team_server as team
from launcher.server.checks.failures import ServerFailed
from launcher.server.process import READY_TIMEOUT
from launcher.server.tls import TlsFiles

_STARTED = ".started"
"""Beside the auth config once a start succeeded: the admin user exists, no password needed."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "team-server",
        help="run MLflow's own server for a team-database project, with logins",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--host", default=team.DEFAULT_HOST, help="default 127.0.0.1 (this PC only)")
    p.add_argument("--port", type=int, default=team.DEFAULT_PORT)
    p.add_argument("--workers", type=int, default=team.DEFAULT_WORKERS)
    p.add_argument("--admin", default=team.DEFAULT_ADMIN, help="the auth app's admin user")
    p.add_argument(
        "--default-permission",
        choices=team.PERMISSIONS,
        default=team.DEFAULT_PERMISSION,
        help="what every user may do with others' experiments",
    )
    p.add_argument(
        "--auth-cache-seconds",
        type=int,
        default=team.AUTH_CACHE_SECONDS,
        help="how long a worker trusts a checked login (0: check the password every request)",
    )
    p.add_argument(
        "--password-stdin", action="store_true", help="read the admin's password from stdin"
    )
    p.add_argument(
        "--upgrade-schema",
        action="store_true",
        help="create MLflow's tables in an empty database, or upgrade an old schema",
    )
    p.add_argument(
        "--tls-cert", help="the company's certificate (PEM) to serve HTTPS with (with --tls-key)"
    )
    p.add_argument("--tls-key", help="the private key (PEM) of --tls-cert")
    p.add_argument(
        "--plain-http",
        action="store_true",
        help="serve plain HTTP: logins then cross the network in clear (default: HTTPS)",
    )
    p.add_argument(
        "--workspaces",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve MLflow's workspaces (default: on when the database has some besides "
        "'default', as after gather)",
    )
    p.add_argument("--timeout", type=float, default=READY_TIMEOUT, help="seconds to wait")
    p.add_argument("--write-unit", choices=("systemd", "task"), help="write a boot unit, not serve")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    project = find_project(load(store), store.paths, args.name)
    if args.workers < 1 or not 0 < args.port < 65536:
        raise UsageError("--workers must be at least 1 and --port between 1 and 65535")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.plain_http and args.tls_cert:
        raise UsageError("--plain-http serves no certificate: drop --tls-cert/--tls-key")
    for given in (args.tls_cert, args.tls_key):
        if given and not Path(given).is_file():
            raise UsageError(f"no such file: {given}")
    settings = team.TeamSettings(
        args.host,
        args.port,
        args.workers,
        args.admin,
        args.default_permission,
        max(0, args.auth_cache_seconds),
        tls=not args.plain_http,
        tls_cert=str(Path(args.tls_cert).absolute()) if args.tls_cert else "",
        tls_key=str(Path(args.tls_key).absolute()) if args.tls_key else "",
        workspaces=_workspaces(args.workspaces, project),
    )
    try:
        team.check_store(project)
    except team.NotATeamStore as exc:
        err(f"error: {exc}")
        return EXIT_FAIL
    refusal = team.frozen_refusal(project)
    if refusal:
        err(f"error: {refusal}")
        return EXIT_FAIL
    if args.write_unit:
        return _write_unit(args.write_unit, project, settings, store.paths)
    if not team.has_auth_app(project.python):
        err("error: this MLflow has no basic-auth app: pip install 'mlflow[auth]' (Flask-WTF)")
        return EXIT_FAIL
    password = _admin_password(args.password_stdin, project, settings, store.paths)
    return _serve(project, settings, password, store.paths, args)


def _workspaces(asked: bool | None, project: Project) -> bool:
    """On when asked, else when the database holds workspaces besides ``default``."""
    if asked is not None:
        return asked
    from launcher.server.stores import workspaces

    try:
        return bool([n for n in workspaces.of_store(project.store) if n != "default"])
    except workspaces.WorkspacesUnknown:
        return False


def _admin_password(
    from_stdin: bool, project: Project, settings: team.TeamSettings, paths: AppPaths
) -> str | None:
    """The admin's password: stdin, the credential store, none (admin made), or a prompt."""
    url = team.admin_url(settings)
    if from_stdin:
        return _keep(url, read_password(True, ""))
    stored = credentials.password_for(url)
    if stored or _started_marker(paths, project).exists():
        return stored
    if not os.isatty(0):
        raise UsageError("the first start needs the admin's password: --password-stdin")
    prompt = f"New password for the team server's admin {settings.admin!r}: "
    return _keep(url, read_password(False, prompt, confirm="Again: "))


def _keep(url: str, password: str) -> str:
    if len(password) < team.MIN_PASSWORD:
        raise UsageError(f"the admin's password needs at least {team.MIN_PASSWORD} characters")
    if credentials.available():
        try:
            credentials.store_password(url, password)
        except credentials.CredentialError as exc:
            err(f"note: {exc}")
    return password


def _started_marker(paths: AppPaths, project: Project) -> Path:
    return team.auth_config_path(paths, project).with_suffix(_STARTED)


def _serve(
    project: Project,
    settings: team.TeamSettings,
    password: str | None,
    paths: AppPaths,
    args: argparse.Namespace,
) -> int:
    server = team.TeamServer(
        project,
        paths,
        settings,
        password,
        ready_timeout=args.timeout,
        upgrade_schema=args.upgrade_schema,
    )

    def body() -> int:
        if settings.exposed:
            err(
                f"warning: listening on every network address ({settings.host}): anyone who "
                "reaches this PC gets the login prompt; only users with a login get in."
            )
        if not settings.tls:
            err(
                "warning: --plain-http: logins and data cross the network in clear; anyone on "
                "the way can read the passwords."
            )
        err(f"Starting the team server of {project.name!r} ({settings.workers} workers)...")
        try:
            server.start()
        except ServerFailed as exc:
            err(f"error: {exc.failure.details()}")
            return EXIT_FAIL
        _started_marker(paths, project).touch()
        url = settings.url()
        print(url + "/", flush=True)
        _tell_colleagues(project, settings, url, server.certificate)
        err(f"Serving; log: {server.log_path}. Ctrl-C stops it.")
        return until_it_exits(server)

    return in_foreground(server, body)


def _tell_colleagues(
    project: Project, settings: team.TeamSettings, url: str, certificate: TlsFiles | None
) -> None:
    host_port = url.split("://", 1)[1]
    if certificate:
        kind = "given" if settings.tls_cert else "self-signed"
        err(
            f"HTTPS with the {kind} certificate {certificate.cert}\n"
            f"  SHA-256 fingerprint: {certificate.fingerprint()}\n"
            "  Colleagues' launchers pin it on first use: tell them this fingerprint to compare."
        )
    cert_line = (
        f"\n  and {tls_pin.CERT_PATH_VAR} to the certificate their launcher pinned "
        "(the tracking snippet has it)"
        if certificate
        else ""
    )
    add = f"mlflow-launcher add {project.name} {settings.scheme}://USER@{host_port}"
    if settings.workspaces:
        add += " --all-workspaces"
    grant = (
        "  Workspaces are on: a login sees a workspace once the admin grants it:\n"
        f"    mlflow-launcher team-grant {project.name} USER WORKSPACE [--level READ|USE|MANAGE]\n"
        if settings.workspaces
        else ""
    )
    err(
        f"Team server of {project.name!r} at {url} (MLflow's basic-auth app, admin "
        f"{settings.admin!r}).\n"
        f"  Logins: the admin creates one per colleague at {url}/signup\n"
        f"{grant}"
        f"  Colleagues add it:     {add}\n"
        f"  and give their login:  mlflow-launcher password {project.name}\n"
        f"  Their scripts set {credentials.TRACKING_USERNAME_VAR} and "
        f"{credentials.TRACKING_PASSWORD_VAR}{cert_line}."
    )


# -- at boot -------------------------------------------------------------------------------------


def command_line(project: Project, settings: team.TeamSettings) -> list[str]:
    """This launcher, as installed, running this team server (no password option)."""
    return [
        *autostart.launch_command(),
        "team-server",
        project.name,
        "--host",
        settings.host,
        "--port",
        str(settings.port),
        "--workers",
        str(settings.workers),
        "--admin",
        settings.admin,
        "--default-permission",
        settings.default_permission,
        "--auth-cache-seconds",
        str(settings.auth_cache_seconds),
        *(
            ["--tls-cert", settings.tls_cert, "--tls-key", settings.tls_key]
            if settings.tls_cert
            else []
        ),
        *([] if settings.tls else ["--plain-http"]),
        "--workspaces" if settings.workspaces else "--no-workspaces",
    ]


def systemd_unit(project: Project, settings: team.TeamSettings, paths: AppPaths) -> str:
    argv = command_line(project, settings)
    home = os.environ.get("MLFLOW_LAUNCHER_HOME", "")
    env_line = f'Environment="MLFLOW_LAUNCHER_HOME={home}"\n' if home else ""
    return (
        "[Unit]\n"
        f"Description=MLflow team server of {project.name} (mlflow-launcher)\n"
        "After=network-online.target postgresql.service\n"
        "Wants=network-online.target\n\n"
        "[Service]\n"
        "Type=simple\n"
        f"User={getpass.getuser()}\n"
        f"{env_line}"
        f"ExecStart={' '.join(_systemd_quote(a) for a in argv)}\n"
        "Restart=on-failure\n"
        "RestartSec=10\n"
        "TimeoutStopSec=30\n\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def _systemd_quote(arg: str) -> str:
    if arg and not any(c in arg for c in " \t\"'\\;$%"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def task_xml(project: Project, settings: team.TeamSettings) -> str:
    argv = command_line(project, settings)
    user = os.environ.get("USERDOMAIN", "") + "\\" + getpass.getuser()
    return (
        '<?xml version="1.0" encoding="UTF-16"?>\n'
        '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
        "  <RegistrationInfo><Description>MLflow team server of "
        f"{escape(project.name)} (mlflow-launcher)</Description></RegistrationInfo>\n"
        "  <Triggers><BootTrigger><Enabled>true</Enabled><Delay>PT1M</Delay></BootTrigger>"
        "</Triggers>\n"
        f'  <Principals><Principal id="Author"><UserId>{escape(user.lstrip(chr(92)))}</UserId>'
        "<LogonType>Password</LogonType><RunLevel>LeastPrivilege</RunLevel></Principal>"
        "</Principals>\n"
        "  <Settings><MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>"
        "<DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>"
        "<StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>"
        "<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>"
        "<RestartOnFailure><Interval>PT1M</Interval><Count>3</Count></RestartOnFailure>"
        "<Enabled>true</Enabled></Settings>\n"
        '  <Actions Context="Author"><Exec>'
        f"<Command>{escape(argv[0])}</Command>"
        f"<Arguments>{escape(subprocess.list2cmdline(argv[1:]))}</Arguments>"
        "</Exec></Actions>\n"
        "</Task>\n"
    )


def _write_unit(kind: str, project: Project, settings: team.TeamSettings, paths: AppPaths) -> int:
    folder = team.auth_config_path(paths, project).parent
    name = f"mlflow-team-{project.slug}"
    if kind == "systemd":
        text, path = systemd_unit(project, settings, paths), folder / f"{name}.service"
        atomic.write_text(path, text)
        how = f"sudo cp {path} /etc/systemd/system/ && sudo systemctl enable --now {path.name}"
    else:
        text, path = task_xml(project, settings), folder / f"{name}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-16")
        how = f'schtasks /Create /TN "{name}" /XML "{path}" /RU {getpass.getuser()} /RP *'
    print(text, end="", flush=True)
    err(f"Wrote {path}. Install it: {how}")
    err("Start it once by hand first: the first start asks for the admin's password.")
    return EXIT_OK
