"""One server for the team: MLflow's own ``mlflow server`` on a team database, behind its
basic-auth app, so colleagues share one URL and the network gets a login prompt, not the data.

The server is the project's ``mlflow server`` fallback (``server_command.build``, run by
:class:`~launcher.server.process.MlflowServer`: pre-flight, schema check, lifeline, whole-tree
stop) with the team's options appended to a copy of the project (:func:`served_project`):

- ``--workers N`` (default 4) and ``--app-name basic-auth``;
- ``--artifacts-destination`` the project's artifacts location (the share) and
  ``--default-artifact-root mlflow-artifacts:/``: new experiments' artifacts are uploaded
  through the server, so a colleague needs the URL and a login, not the share;
- the database through the environment only (``PGPASSWORD``, or the full URL in
  ``MLFLOW_BACKEND_STORE_URI``), as for every database store;
- HTTPS by default (``--uvicorn-opts --ssl-certfile/--ssl-keyfile``): the company's certificate,
  or a self-signed one made once beside the config (:mod:`launcher.server.tls`), pinned here for
  the server's own readiness checks and by colleagues' launchers on first use. Plain HTTP only
  when asked for by name (``TeamSettings.tls`` False).

The store is PostgreSQL or MySQL, or a SQLite file on this PC's own disk: SQLite's own advice
for several machines is that every access goes through the one machine holding the file, which
is what a server is. A SQLite file on a network path is refused (its locking there is unreliable).

The auth app's config (``MLFLOW_AUTH_CONFIG_PATH``) is a private (0600) file in the launcher's
data dir that holds no password: its users live in the team database itself (PostgreSQL, reached
with ``PGPASSWORD``; a MySQL URL would have to carry the password, so a MySQL project's users are
kept in a private SQLite file beside the config instead). The admin's password is needed only on
the first start, when MLflow creates the admin user; it reaches the server as
``MLFLOW_AUTH_ADMIN_PASSWORD`` in its environment and is kept in the OS credential store under
:func:`admin_url` (the URL the admin would add on the server's PC).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import secrets
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from launcher.model import atomic, credentials
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreError, StoreKind
from launcher.server import spawn, tls
from launcher.server.checks.failures import Failure
from launcher.server.process import MlflowServer
from launcher.server.python import environment
from launcher.server.python import server_command as commands
from launcher.server.stores import artifact_root, shares
from launcher.server.tls import TlsFiles

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
"""MLflow's own default: colleagues need an address that stays the same."""
DEFAULT_WORKERS = 4
DEFAULT_ADMIN = "admin"
DEFAULT_PERMISSION = "EDIT"
"""What a new user may do with others' experiments: a team logs into shared ones."""
PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")
AUTH_CACHE_SECONDS = 60
"""How long a worker trusts a checked login: each check is a deliberately slow password hash,
paid on every request without it; a changed password reaches every worker within this time."""
MIN_PASSWORD = 12
"""MLflow's auth app refuses shorter passwords (mlflow.utils.validation._validate_password)."""
AUTH_CONFIG_VAR = "MLFLOW_AUTH_CONFIG_PATH"
ADMIN_PASSWORD_VAR = "MLFLOW_AUTH_ADMIN_PASSWORD"
SECRET_KEY_VAR = "MLFLOW_FLASK_SERVER_SECRET_KEY"
"""The auth app's CSRF key, the same in every worker: a new random one at each start."""
_TEAM_DIALECTS = ("postgresql", "mysql")
_ANY_ADDRESS = ("0.0.0.0", "::", "")


class NotATeamStore(Exception):
    """The project's store cannot back a team server; the message is one line for the user."""


@dataclass(frozen=True)
class TeamSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = DEFAULT_WORKERS
    admin: str = DEFAULT_ADMIN
    default_permission: str = DEFAULT_PERMISSION
    auth_cache_seconds: int = AUTH_CACHE_SECONDS
    tls: bool = True
    """HTTPS (the default); False only for ``--plain-http``."""
    tls_cert: str = ""
    """The company's certificate (PEM; with :attr:`tls_key`); empty: a self-signed one."""
    tls_key: str = ""
    workspaces: bool = False
    """Serve with MLflow's workspaces on (a gathered database: a workspace per project)."""

    @property
    def exposed(self) -> bool:
        """Listening on every address: the network reaches it (a warning is due)."""
        return self.host in _ANY_ADDRESS

    def shown_host(self) -> str:
        """The host colleagues type: this PC's name when it listens everywhere."""
        if not self.exposed:
            return f"[{self.host}]" if ":" in self.host else self.host
        import socket

        return socket.gethostname() or "THIS-PC"  # no DNS look-up: it can hang offline

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def url(self) -> str:
        return f"{self.scheme}://{self.shown_host()}:{self.port}"


def check_store(project: Project) -> str:
    """The team database's URL; :class:`NotATeamStore` for a folder, SQLite or other store."""
    try:
        store = project.parsed_store()
    except StoreError as exc:
        raise NotATeamStore(str(exc)) from exc
    dialect = store.uri.split(":", 1)[0].lower().split("+", 1)[0]
    if store.kind is StoreKind.SQL and dialect in _TEAM_DIALECTS:
        return store.uri
    if store.kind is StoreKind.SQLITE and store.path:
        share = shares.network_share(store.path)
        if share is None:
            return store.uri
        raise NotATeamStore(
            f"{project.name!r} is a SQLite file on {share}: SQLite's locking over a network is "
            "unreliable and corrupts the file when several processes write (sqlite.org, "
            '"SQLite Over a Network"). A team server on SQLite needs the file on this PC\'s own '
            "disk (copy it here), or a team database: mlflow-launcher move "
            f"{project.name!r} --to postgresql://USER@HOST/DB --switch"
        )
    move = (
        f"move it first: mlflow-launcher move {project.name!r} "
        "--to postgresql://USER@HOST/DB --switch"
    )
    if store.kind is StoreKind.FOLDER:
        why = "is a folder store"
    elif store.kind is StoreKind.SQLITE:
        why = "is a SQLite URL without a file path"
    elif store.kind is StoreKind.REMOTE:
        raise NotATeamStore(f"{project.name!r} is already a tracking server ({store.display}).")
    else:
        why = f"is a {dialect} database (a team server needs PostgreSQL or MySQL)"
    raise NotATeamStore(
        f"{project.name!r} {why}; a team server needs a team database or a SQLite file on this "
        f"PC: {move}"
    )


def tls_files(project: Project, settings: TeamSettings, paths: AppPaths) -> TlsFiles | None:
    """The certificate the server shows: the one given, or the self-signed one beside its
    config (made on the first start, kept after); None for plain HTTP."""
    if not settings.tls:
        return None
    if settings.tls_cert:
        return TlsFiles(Path(settings.tls_cert), Path(settings.tls_key))
    folder = auth_config_path(paths, project).parent / f"{project.slug}-tls"
    return tls.self_signed(folder, tls.default_names(settings.host))


def uvicorn_tls_options(files: TlsFiles) -> list[str]:
    """``mlflow server``'s option handing uvicorn (every worker) the certificate and key."""
    cert, key = str(files.cert.absolute()), str(files.key.absolute())
    opts = ["--ssl-certfile", cert, "--ssl-keyfile", key]
    return ["--uvicorn-opts", " ".join(shlex.quote(o) for o in opts)]


def served_project(
    project: Project, settings: TeamSettings, paths: AppPaths, certificate: TlsFiles | None = None
) -> Project:
    """The copy of ``project`` the team server runs: its address and the team's options.

    Appended after the project's own extra options, so they win (click keeps the last value).
    """
    where = artifact_root.artifacts_location(project, paths)
    if isinstance(where, Path):
        where.mkdir(parents=True, exist_ok=True)
    destination = where if isinstance(where, str) else str(where.absolute())
    extra = [
        *project.extra_args,
        "--workers",
        str(settings.workers),
        "--app-name",
        "basic-auth",
        "--artifacts-destination",
        destination,
        "--default-artifact-root",
        commands.DEFAULT_ARTIFACT_ROOT,
        *(uvicorn_tls_options(certificate) if certificate else []),
        *(["--enable-workspaces"] if settings.workspaces else []),
    ]
    return dataclasses.replace(
        project,
        host=settings.host,
        port=settings.port,
        extra_args=extra,
        access_key=False,
        fast_view=False,
    )


def admin_url(settings: TeamSettings) -> str:
    """Where the admin's password is kept: the URL the admin would add on the server's PC."""
    return f"{settings.scheme}://{settings.admin}@127.0.0.1:{settings.port}"


def auth_config_path(paths: AppPaths, project: Project) -> Path:
    return paths.data_dir / "team-server" / f"{project.slug}.ini"


def auth_database(store_uri: str, paths: AppPaths, project: Project) -> str:
    """Where the auth app keeps its users: the team database, without its password."""
    if store_uri.lower().startswith("postgres"):
        return credentials.split(store_uri)[0]  # PGPASSWORD carries the password
    # MySQL (its URL would carry the password) and SQLite (a second writer on the store's own
    # file is not worth it) keep their users in a private file here.
    users = paths.data_dir / "team-server" / f"{project.slug}-users.db"
    return "sqlite:///" + users.absolute().as_posix()


def auth_config_text(database_uri: str, settings: TeamSettings) -> str:
    """The basic-auth app's ini: no password in it (the admin's comes from the environment)."""
    return (
        "# Written by mlflow-launcher team-server; rewritten at each start. No password here.\n"
        "[mlflow]\n"
        f"default_permission = {settings.default_permission}\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {settings.admin}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        f"auth_cache_ttl_seconds = {settings.auth_cache_seconds}\n"
    )


def write_auth_config(paths: AppPaths, project: Project, settings: TeamSettings) -> Path:
    path = auth_config_path(paths, project)
    database = auth_database(check_store(project), paths, project)
    atomic.write_text(path, auth_config_text(database, settings), private=True)
    return path


def auth_env(config_path: Path, admin_password: str | None) -> dict[str, str]:
    env = {AUTH_CONFIG_VAR: str(config_path), SECRET_KEY_VAR: secrets.token_urlsafe(32)}
    if admin_password:
        env[ADMIN_PASSWORD_VAR] = admin_password
    return env


FROZEN_REFUSAL = (
    "the installed launcher (a frozen exe) cannot run `mlflow server` itself: it has no Python "
    "for `-m mlflow` and its worker processes. Point the project at a Python environment with "
    "MLflow and Flask-WTF (pip install 'mlflow[auth]'; then mlflow-launcher edit {name} "
    "--python PATH), or run team-server from a pip install of the launcher "
    "(pip install mlflow-launcher 'mlflow[auth]')."
)


def frozen_refusal(project: Project) -> str | None:
    """Why this launcher cannot run ``project``'s team server; None when it can.

    ``mlflow server`` starts its workers as ``sys.executable -m uvicorn`` (or gunicorn,
    waitress) and the basic-auth app reads its alembic migrations from disk; frozen,
    ``sys.executable`` is the launcher's exe, which runs no ``-m``, and the bundle holds neither
    the auth app nor Flask-WTF. A project with its own Python works frozen too: that Python runs
    the server, as it runs the project's fallback server.
    """
    if not environment.FROZEN:
        return None
    try:
        own = environment.resolve(project.python).own
    except environment.EnvironmentError_:
        return None  # a missing interpreter: the start itself says so
    return FROZEN_REFUSAL.format(name=project.name) if own else None


def has_auth_app(python: str) -> bool:
    """Whether the project's MLflow can run ``--app-name basic-auth`` (it needs Flask-WTF)."""
    env = environment.resolve(python)
    if env.own:
        return importlib.util.find_spec("flask_wtf") is not None
    try:
        done = spawn.run([env.python, "-c", "import flask_wtf"], timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class TeamServer(MlflowServer):
    """The team's ``mlflow server``: a project's fallback server with the auth app's variables."""

    def __init__(
        self,
        project: Project,
        paths: AppPaths,
        settings: TeamSettings,
        admin_password: str | None,
        *,
        ready_timeout: float,
        upgrade_schema: bool = False,
    ) -> None:
        self.certificate = tls_files(project, settings, paths)
        super().__init__(
            served_project(project, settings, paths, self.certificate),
            paths,
            ready_timeout=ready_timeout,
            upgrade_schema=upgrade_schema,
        )
        self.settings = settings
        if self.certificate:
            own = {"127.0.0.1", "localhost", settings.shown_host(), settings.host}
            tls.trust_own(paths, self.certificate, sorted(own - {"0.0.0.0", "::", ""}),
                          settings.port)  # fmt: skip
        self.auth_config = write_auth_config(paths, project, settings)
        self._auth_env = auth_env(self.auth_config, admin_password)

    def _run_until_ready(self, cmd: commands.ServerCommand) -> Failure | None:
        scheme = self.settings.scheme
        cmd = dataclasses.replace(cmd, env={**cmd.env, **self._auth_env}, scheme=scheme)
        return super()._run_until_ready(cmd)
