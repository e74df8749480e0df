"""How a project is served: the exact command line and environment of its server process.

Kept free of side effects so the tests can check every decision (lean or fallback, which
variables are set or cleared) without starting anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from launcher.model import credentials
from launcher.model.project import Project
from launcher.model.stores import Store, StoreKind
from launcher.server.python.environment import PythonEnv

DEFAULT_ARTIFACT_ROOT = "mlflow-artifacts:/"

# `mlflow server` reads every option from MLFLOW_<OPTION> too (click's auto_envvar_prefix), and
# its workers read _MLFLOW_* variables: an inherited one would silently change the server.
_SERVER_OPTION_VARS = {
    "MLFLOW_" + name
    for name in (
        "HOST",
        "PORT",
        "WORKERS",
        "BACKEND_STORE_URI",
        "REGISTRY_STORE_URI",
        "DEFAULT_ARTIFACT_ROOT",
        "SERVE_ARTIFACTS",
        "NO_SERVE_ARTIFACTS",
        "ARTIFACTS_ONLY",
        "ARTIFACTS_DESTINATION",
        "STATIC_PREFIX",
        "GUNICORN_OPTS",
        "WAITRESS_OPTS",
        "UVICORN_OPTS",
        "EXPOSE_PROMETHEUS",
        "APP_NAME",
        "DEV",
        "ALLOWED_HOSTS",
        "CORS_ALLOWED_ORIGINS",
        "X_FRAME_OPTIONS",
        "DISABLE_SECURITY_MIDDLEWARE",
        "SERVER_ALLOWED_HOSTS",
        "SERVER_CORS_ALLOWED_ORIGINS",
        "SERVER_X_FRAME_OPTIONS",
        "SERVER_DISABLE_SECURITY_MIDDLEWARE",
        "ENABLE_WORKSPACES",
        "WORKSPACE_STORE_URI",
        "READ_REPLICA_BACKEND_STORE_URI",
        "TRACKING_URI",
        "REGISTRY_URI",
        "ENV_FILE",
        "SECRETS_CACHE_TTL",
        "SECRETS_CACHE_MAX_SIZE",
        "TRACE_ARCHIVAL_CONFIG",
    )
}

# Options the lean server understands, with the variable each one sets. Any other option sends
# the project through `mlflow server --workers 1`, so no option is ever silently dropped.
_LEAN_VALUE_OPTIONS = {
    "--registry-store-uri": "_MLFLOW_SERVER_REGISTRY_STORE",
    "--default-artifact-root": "_MLFLOW_SERVER_ARTIFACT_ROOT",
    "--artifacts-destination": "_MLFLOW_SERVER_ARTIFACT_DESTINATION",
    "--static-prefix": "_MLFLOW_STATIC_PREFIX",
    "--allowed-hosts": "MLFLOW_SERVER_ALLOWED_HOSTS",
    "--cors-allowed-origins": "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",
    "--x-frame-options": "MLFLOW_SERVER_X_FRAME_OPTIONS",
}
_LEAN_FLAGS = {
    "--serve-artifacts": ("_MLFLOW_SERVER_SERVE_ARTIFACTS", "true"),
    "--no-serve-artifacts": ("_MLFLOW_SERVER_SERVE_ARTIFACTS", None),
    "--disable-security-middleware": ("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE", "true"),
}


@dataclass(frozen=True)
class ProcessCommand:
    """What starting a server process takes: its command line, environment, folder and host.

    A working directory of its own, always local: never a UNC path, which cmd.exe rejects.
    """

    argv: list[str]
    env: dict[str, str]
    cwd: str
    host: str


@dataclass(frozen=True)
class ServerCommand(ProcessCommand):
    """A project's server: on which port, lean or ``mlflow server``, under which prefix."""

    port: int
    lean: bool
    prefix: str = ""
    """The --static-prefix the UI and /health live under ('' for the root)."""
    scheme: str = "http"
    """"https" for a team server (issue #23: it speaks TLS, ``launcher.server.tls``)."""

    @property
    def base_url(self) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        if ":" in shown:
            shown = f"[{shown}]"
        return f"{self.scheme}://{shown}:{self.port}{self.prefix}/"


def parse_extra(args: list[str]) -> tuple[dict[str, str | None], bool]:
    """Split extra server arguments into lean settings; False when some option needs fallback."""
    settings: dict[str, str | None] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        opt, eq, value = arg.partition("=")
        if opt in _LEAN_FLAGS and not eq:
            var, flag_value = _LEAN_FLAGS[opt]
            settings[var] = flag_value
        elif opt in _LEAN_VALUE_OPTIONS or opt in ("--host", "-h", "--port", "-p", "--workers"):
            if not eq:
                if i + 1 >= len(args):
                    return settings, False
                i += 1
                value = args[i]
            if opt in ("--workers",) and value.strip() != "1":
                return settings, False
            key = {"-h": "--host", "-p": "--port"}.get(opt, opt)
            settings[_LEAN_VALUE_OPTIONS.get(key, key)] = value
        else:
            return settings, False
        i += 1
    return settings, True


def host_and_port(project: Project) -> tuple[str, int]:
    """The project's address, where its extra arguments may override host and port."""
    settings, _ = parse_extra(project.extra_args)
    host = settings.get("--host") or project.host or "127.0.0.1"
    port_text = settings.get("--port")
    port = int(port_text) if port_text and port_text.isdigit() else project.port
    return host, port


def build(
    project: Project,
    store: Store,
    env: PythonEnv,
    *,
    port: int,
    artifacts_dir: Path,
    work_dir: Path,
    base_env: dict[str, str],
    registry_uri: str | None = None,
    artifact_root: str = DEFAULT_ARTIFACT_ROOT,
) -> ServerCommand:
    """The command that serves ``project`` on ``port``, and the environment it runs in.

    ``registry_uri`` replaces the store as model registry (see ``registry_for``);
    ``artifact_root`` is new experiments' artifact location (see ``artifact_root.root_for``).
    """
    host, _ = host_and_port(project)
    settings, lean_ok = parse_extra(project.extra_args)
    lean = env.lean and lean_ok
    run_env = {k: v for k, v in env.child_env(base_env).items() if not _overrides_server(k)}
    run_env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "PYTHONIOENCODING": "utf-8",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            # Issue #23: a project that is one workspace is served with workspaces on.
            "MLFLOW_ENABLE_WORKSPACES": "true" if project.workspace else "false",
        }
    )
    if store.kind is StoreKind.FOLDER:
        run_env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    destination = str(artifacts_dir.absolute())
    # A database password reaches the server through its environment only: PGPASSWORD for
    # PostgreSQL (with a password-less URL), else the full URL in the store variables below.
    store_uri = credentials.server_uri(store.uri)
    run_env.update(credentials.database_env(store.uri))
    if lean:
        run_env.update(
            {
                "_MLFLOW_SERVER_FILE_STORE": store_uri,
                "_MLFLOW_SERVER_REGISTRY_STORE": registry_uri or store_uri,
                "_MLFLOW_SERVER_ARTIFACT_ROOT": artifact_root,
                "_MLFLOW_SERVER_SERVE_ARTIFACTS": "true",
                "_MLFLOW_SERVER_ARTIFACT_DESTINATION": destination,
                "_MLFLOW_SERVER_BOOT_ID": uuid.uuid4().hex,
                "_MLFLOW_SGI_NAME": "uvicorn",
                "_MLFLOW_IN_JOB_EXECUTOR": "false",
            }
        )
        for var, value in settings.items():
            if var.startswith("--"):
                continue
            if value is None:
                run_env.pop(var, None)
            else:
                run_env[var] = value
        argv = env.child_command("serve", "--host", host, "--port", str(port), "--watch-stdin")
    else:
        extra = _without_address(project.extra_args)
        # Store URIs go through the environment (`mlflow server` reads MLFLOW_BACKEND_STORE_URI
        # and MLFLOW_REGISTRY_STORE_URI since 1.x): a database password in the argv would show
        # in every process list and in the log's command line.
        run_env["MLFLOW_BACKEND_STORE_URI"] = store_uri
        if registry_uri and not _has_option(extra, "--registry-store-uri"):
            run_env["MLFLOW_REGISTRY_STORE_URI"] = registry_uri
        server_args: list[str] = []
        if not _has_option(extra, "--artifacts-destination"):
            server_args += ["--artifacts-destination", destination]
        if not _has_option(extra, "--default-artifact-root"):
            server_args += ["--default-artifact-root", artifact_root]
        argv = env.child_command(
            "fallback",
            "--host",
            host,
            "--port",
            str(port),
            "--watch-stdin",
            "--",
            *server_args,
            *extra,
        )
    prefix = (settings.get("_MLFLOW_STATIC_PREFIX") or "").rstrip("/")
    if not lean:
        prefix = _option_value(project.extra_args, "--static-prefix").rstrip("/")
    return ServerCommand(argv, run_env, str(work_dir), host, port, lean, prefix)


def registry_for(store: Store, fallback_dir: Path) -> str | None:
    """Where a folder store's model registry lives without writing into the store.

    MLflow's folder registry creates ``<store>/models`` when it opens; a store that has none
    (most stores that never registered a model) gets a registry in the launcher's data dir
    instead, so serving a team share creates nothing in it.
    """
    if store.kind is not StoreKind.FOLDER or store.path is None:
        return None
    if Path(store.path, "models").is_dir():
        return None
    return fallback_dir.absolute().as_uri()


def _overrides_server(name: str) -> bool:
    upper = name.upper()
    return upper.startswith("_MLFLOW_") or upper in _SERVER_OPTION_VARS


def _has_option(args: list[str], option: str) -> bool:
    return any(a == option or a.startswith(option + "=") for a in args)


def _option_value(args: list[str], option: str) -> str:
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return ""


def _without_address(args: list[str]) -> list[str]:
    """Host and port are the launcher's to pass; drop the project's copies from the argv."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        opt = arg.split("=", 1)[0]
        if opt in ("--host", "-h", "--port", "-p"):
            skip = "=" not in arg
            continue
        out.append(arg)
    return out
