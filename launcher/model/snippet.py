"""The few lines of Python that log into a project's store, ready to paste into a script.

Which URI goes into ``mlflow.set_tracking_uri``: the store's own URI, not the URL of the
launcher's server. The server listens on a port picked afresh at each start and may be stopped
when idle, while a training script runs for hours and must keep logging whether the launcher runs
or not; with the store URI the script writes where the UI reads, with no launcher in between. A
remote tracking server is the exception that proves the rule: there the URL *is* the store.

Escaping: every value is written with :func:`repr`, which yields a valid Python literal for any
text (backslashes of UNC paths doubled, quotes and non-printable characters escaped), so a pasted
snippet never breaks on a path. Folder and SQLite stores are given as URIs with forward slashes
anyway (``file://server/share/mlruns``, ``sqlite:///C:/x/mlflow.db``), which MLflow reads the same
on every OS.
"""

from __future__ import annotations

from launcher.model import credentials, tls_pin
from launcher.model.paths import AppPaths, app_paths
from launcher.model.project import Project
from launcher.model.stores import Store, StoreKind

EXAMPLE_EXPERIMENT = "my-experiment"
FILE_STORE_VAR = "MLFLOW_ALLOW_FILE_STORE"


def tracking_uri(store: Store) -> str:
    """What a client passes to ``mlflow.set_tracking_uri`` to use ``store`` directly.

    A remote server's login is not part of it: MLflow reads it from ``MLFLOW_TRACKING_USERNAME``
    and ``MLFLOW_TRACKING_PASSWORD`` (see :func:`tracking_snippet`).
    """
    if store.kind is StoreKind.REMOTE:
        return credentials.without_userinfo(store.uri)
    return store.uri


def tracking_snippet(
    project: Project, *, windows: bool | None = None, paths: AppPaths | None = None
) -> str:
    """The ``import mlflow`` / ``set_tracking_uri`` / ``set_experiment`` lines for ``project``.

    ``windows`` picks the path semantics of the machine the snippet is for (default: this one),
    so the tests can check Windows stores on Linux. Raises
    :class:`~launcher.model.stores.StoreError` for a store that cannot be parsed.
    """
    store = project.parsed_store(windows=windows)
    imports = ["import mlflow"]
    body: list[str] = []
    if store.kind is StoreKind.FOLDER:
        imports.insert(0, "import os")
        body.append(
            f"os.environ[{FILE_STORE_VAR!r}] = 'true'  # MLflow 3 refuses folder stores without it"
        )
    body += _login_lines(store, imports)
    body += _certificate_lines(store, imports, paths)
    body.append(f"mlflow.set_tracking_uri({tracking_uri(store)!r})")
    if project.workspace:
        body.append(f"mlflow.set_workspace({project.workspace!r})  # this project's workspace")
    experiment = project.prefix + EXAMPLE_EXPERIMENT
    comment = (
        f"  # this project's experiments start with {project.prefix!r}" if project.prefix else ""
    )
    body.append(f"mlflow.set_experiment({experiment!r}){comment}")
    return "\n".join([*imports, "", *body]) + "\n"


def _certificate_lines(store: Store, imports: list[str], paths: AppPaths | None) -> list[str]:
    """An https team server whose certificate this launcher pinned (a self-signed one): MLflow's
    client trusts that certificate (one the company's CAs sign needs nothing)."""
    where = tls_pin.origin(store.uri) if store.kind is StoreKind.REMOTE else None
    if where is None:
        return []
    path = tls_pin.pin_path(paths or app_paths(), *where)
    if not path.is_file():
        return []
    if "import os" not in imports:
        imports.insert(0, "import os")
    pem = str(path)
    return [
        f"os.environ.setdefault({tls_pin.CERT_PATH_VAR!r}, {pem!r})"
        "  # the team server's certificate, pinned by the launcher"
    ]


def _login_lines(store: Store, imports: list[str]) -> list[str]:
    """How the script logs in, never with the password itself (it is in the credential store)."""
    user = credentials.username(store.uri)
    if store.kind is StoreKind.REMOTE and user:
        if "import os" not in imports:
            imports.insert(0, "import os")
        return [
            f"os.environ.setdefault({credentials.TRACKING_USERNAME_VAR!r}, {user!r})",
            f"# and set {credentials.TRACKING_PASSWORD_VAR} to your password in the environment"
            " (the launcher keeps it in the OS credential store)",
        ]
    if store.kind is StoreKind.SQL and user and credentials.split(store.uri)[1] is None:
        if store.uri.lower().startswith("postgres"):
            return [
                f"# set {credentials.PG_PASSWORD_VAR} to the database password in the environment"
                " (the launcher keeps it in the OS credential store)"
            ]
        return [
            "# put the database password in the URL below (user:PASSWORD@host): the launcher"
            " keeps it in the OS credential store"
        ]
    return []
