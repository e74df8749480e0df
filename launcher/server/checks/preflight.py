"""The checks before a server starts, in one place: a start and ``doctor`` run the same ones.

Each check reads only (no file or table is created) and says what it found as a
:class:`Finding`. An error finding carries the :class:`Cause` a start fails with, so the sentence
``doctor`` prints for a problem is the sentence a failed start shows. A start stops at the first
error (:meth:`Finding.raise_if_error`); ``doctor`` runs them all and lists what they found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from launcher.model import tls_pin
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import Store, StoreError, StoreKind, redact
from launcher.server import rest, tls
from launcher.server.checks.failures import Cause, Failure, ServerFailed
from launcher.server.python import environment
from launcher.server.stores import schema
from launcher.server.stores.reachable import EXISTS_TIMEOUT, path_exists


class Level(str, Enum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    """One thing a check found; an ERROR names the cause a start would fail with."""

    level: Level
    topic: str
    text: str
    cause: Cause | None = None

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level.value, "topic": self.topic, "text": self.text}

    def raise_if_error(self) -> None:
        """What a start does with a finding: an error ends it with the finding's cause."""
        if self.is_error:
            raise ServerFailed(Failure(self.cause or Cause.UNKNOWN, self.text))


def ok(topic: str, text: str) -> Finding:
    return Finding(Level.OK, topic, text)


def warning(topic: str, text: str) -> Finding:
    return Finding(Level.WARNING, topic, text)


def error(topic: str, cause: Cause, text: str) -> Finding:
    return Finding(Level.ERROR, topic, text, cause)


def parse_store(project: Project) -> tuple[Store | None, Finding]:
    try:
        store = project.parsed_store()
    except StoreError as exc:
        return None, error("store", Cause.BAD_STORE, str(exc))
    return store, ok(
        "store", f"{store.kind.label} at {store.display} (MLflow URI {redact(store.uri)})"
    )


def remote_answers(store: Store) -> Finding:
    """A remote tracking server is served as it is: it must answer (over HTTPS, with the
    certificate pinned on first use: a changed one is refused with its fingerprints)."""
    try:
        tls.pin_on_first_use(store.uri)
    except tls_pin.CertificateChanged as exc:
        return error("reachable", Cause.STORE_UNREACHABLE, str(exc))
    except OSError:
        pass  # not answering: said below
    if rest.is_healthy(store.uri, timeout=10) or rest.get_text(store.uri + "/", 10) is not None:
        return ok("reachable", f"{store.uri} answers")
    return error(
        "reachable", Cause.STORE_UNREACHABLE, f"the tracking server {store.uri} does not answer."
    )


def resolve_environment(project: Project) -> tuple[environment.PythonEnv | None, Finding]:
    """The Python that would serve the project, and whether it has MLflow."""
    try:
        env = environment.resolve(project.python)
    except environment.EnvironmentError_ as exc:
        return None, error("python", Cause.PYTHON_MISSING, str(exc))
    if not env.mlflow:
        return None, error(
            "mlflow",
            Cause.MLFLOW_MISSING,
            f"{env.python} has no MLflow. Install it there (pip install mlflow) or leave the "
            "project's Python environment empty to use the launcher's own.",
        )
    where = "the launcher's own environment" if env.own else env.python
    return env, ok("mlflow", f"MLflow {env.mlflow} from {where}")


def store_reachable(store: Store, paths: AppPaths) -> Finding:
    """A file store's folder or SQLite file is there, is of the right kind and can be read.

    The launcher's own default store, not created yet, is fine: a start creates it
    (:func:`create_own_store`). Bounded by a timeout, so an offline share cannot hang a start.
    """
    if store.path is None:
        return ok("reachable", "a database server: checked with its schema")
    exists = path_exists(store.path)
    if exists is None:
        return error(
            "reachable",
            Cause.STORE_UNREACHABLE,
            f"{store.display} did not answer within {EXISTS_TIMEOUT:.0f} s "
            "(share offline or VPN down?).",
        )
    path = Path(store.path)
    if not exists:
        if paths.owns(path):
            return ok("reachable", "not created yet; the launcher creates it on first start")
        parent_hint = "" if path_exists(str(path.parent), 5) else f" ({path.parent} is missing too)"
        return error(
            "reachable",
            Cause.STORE_MISSING,
            f"{store.display} does not exist{parent_hint}. The launcher never creates a store it "
            "was pointed at: check the path, or create it with MLflow first.",
        )
    if store.kind is StoreKind.FOLDER and not path.is_dir():
        return error(
            "reachable", Cause.BAD_STORE, f"{store.display} is a file, not an mlruns folder."
        )
    if store.kind is StoreKind.SQLITE and path.is_dir():
        return error(
            "reachable", Cause.BAD_STORE, f"{store.display} is a folder, not a SQLite file."
        )
    if not os.access(path, os.R_OK):
        return error("reachable", Cause.PERMISSION_DENIED, f"{store.display} cannot be read.")
    if store.is_unc:
        return warning("reachable", "on a network share: starts and pages may be slower")
    return ok("reachable", "yes")


def create_own_store(store: Store, paths: AppPaths) -> None:
    """The launcher's own default store is created on first use; no other store ever is."""
    if store.path is None or not paths.owns(Path(store.path)) or os.path.exists(store.path):
        return
    path = Path(store.path)
    (path if store.kind is StoreKind.FOLDER else path.parent).mkdir(parents=True, exist_ok=True)


def schema_fits(
    store: Store, env: environment.PythonEnv, paths: AppPaths, project_name: str
) -> tuple[schema.SchemaCheck, Finding]:
    """Would serving leave a SQL store's schema as it is? A change is never made unasked.

    SCHEMA_OUTDATED is the one error a start may get past, when the user asked for the upgrade.
    """
    check = schema.check(store, env)
    if check.state is schema.SchemaState.NOT_SQL:
        return check, ok("schema", "a folder store: no schema")
    if check.state is schema.SchemaState.UNREADABLE:
        return check, error(
            "schema", Cause.STORE_UNREACHABLE, f"{store.display} could not be read: {check.error}"
        )
    if check.state is schema.SchemaState.NEWER:
        return check, error(
            "schema", Cause.SCHEMA_NEWER, schema.explain(check, store, env, project_name)
        )
    if check.state is schema.SchemaState.CURRENT:
        return check, ok("schema", f"revision {check.revision}, as MLflow {env.mlflow} expects")
    if check.state is schema.SchemaState.MISSING:
        return check, ok("schema", "no database yet")
    if check.state is schema.SchemaState.EMPTY and store.path and paths.owns(Path(store.path)):
        return check, ok("schema", "an empty database of the launcher's own: created at start")
    return check, error(
        "schema", Cause.SCHEMA_OUTDATED, schema.explain(check, store, env, project_name)
    )
