"""``doctor``: what a project's store is, and what would go wrong serving it, without serving it.

Everything here only reads: no server is started, no file or table is created. Slow on an
offline share (bounded by timeouts), so the UI runs it off the GUI thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launcher.model.paths import AppPaths
from launcher.model.project import LOOPBACK, Project
from launcher.model.stores import Store, StoreError, StoreKind, redact
from launcher.server import access_key, rest
from launcher.server.process import EXISTS_TIMEOUT, path_exists
from launcher.server.python import environment
from launcher.server.python import server_command as commands
from launcher.server.stores import artifact_root, folder_cost, schema

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class Finding:
    level: str
    topic: str
    text: str


@dataclass
class DoctorReport:
    project: Project
    findings: list[Finding] = field(default_factory=list)
    store: Store | None = None
    mlflow: str | None = None
    experiments: int | None = None
    schema: schema.SchemaCheck | None = None

    @property
    def ok(self) -> bool:
        return not any(f.level == ERROR for f in self.findings)

    def add(self, level: str, topic: str, text: str) -> None:
        self.findings.append(Finding(level, topic, text))

    def format(self) -> str:
        marks = {OK: "ok  ", WARNING: "warn", ERROR: "FAIL"}
        lines = [f"Project {self.project.name!r}"]
        lines += [f"  [{marks[f.level]}] {f.topic}: {f.text}" for f in self.findings]
        verdict = "ready to serve" if self.ok else "would not start (see FAIL lines)"
        lines.append(f"  => {verdict}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project.name,
            "ok": self.ok,
            "kind": self.store.kind.value if self.store else None,
            "uri": self.store.display if self.store else None,
            "experiments": self.experiments,
            "mlflow": self.mlflow,
            "schema": None
            if self.schema is None
            else {
                "state": self.schema.state.value,
                "revision": self.schema.revision,
                "expected": self.schema.expected,
            },
            "findings": [f.__dict__ for f in self.findings],
        }


def diagnose(project: Project, paths: AppPaths) -> DoctorReport:
    report = DoctorReport(project)
    try:
        store = project.parsed_store()
    except StoreError as exc:
        report.add(ERROR, "store", str(exc))
        return report
    report.store = store
    report.add(
        OK, "store", f"{store.kind.label} at {store.display} (MLflow URI {redact(store.uri)})"
    )
    if store.kind is StoreKind.REMOTE:
        _remote(report, store)
        _access(report, project, remote=True, lean=None)
        return report
    env = _environment(report, project)
    reachable = _reachability(report, store, paths)
    if env is not None and reachable:
        _schema_and_count(report, store, env)
    _exposure(report, project)
    fine, where = artifact_root.describe(project, store, paths)
    report.add(OK if fine else WARNING, "artifacts", where)
    lean = None if env is None else env.lean and commands.parse_extra(project.extra_args)[1]
    _access(report, project, remote=False, lean=lean)
    return report


def _access(report: DoctorReport, project: Project, *, remote: bool, lean: bool | None) -> None:
    protected, text = access_key.protection(project, remote=remote, lean=lean)
    report.add(OK if protected else WARNING, "access", text)


def _remote(report: DoctorReport, store: Store) -> None:
    if not rest.is_healthy(store.uri, timeout=10):
        report.add(ERROR, "reachable", f"{store.uri}/health does not answer OK.")
        return
    version = (rest.get_text(store.uri + "/version", 10) or "?").strip()
    report.mlflow = version
    report.add(OK, "reachable", f"answers /health; MLflow {version}")
    try:
        report.experiments = len(rest.search_experiments(store.uri))
        report.add(OK, "experiments", str(report.experiments))
    except (OSError, ValueError) as exc:
        report.add(WARNING, "experiments", f"could not be listed: {exc}")


def _environment(report: DoctorReport, project: Project) -> environment.PythonEnv | None:
    try:
        env = environment.resolve(project.python)
    except environment.EnvironmentError_ as exc:
        report.add(ERROR, "python", str(exc))
        return None
    if not env.mlflow:
        report.add(ERROR, "mlflow", f"{env.python} has no MLflow installed.")
        return None
    report.mlflow = env.mlflow
    _, lean_args = commands.parse_extra(project.extra_args)
    how = (
        "lean server (one in-process worker)"
        if env.lean and lean_args
        else "mlflow server --workers 1 (fallback: "
        + ("extra arguments need it)" if env.lean else "this MLflow lacks the lean internals)")
    )
    where = "the launcher's own environment" if env.own else env.python
    report.add(OK, "mlflow", f"MLflow {env.mlflow} from {where}; {how}")
    return env


def _reachability(report: DoctorReport, store: Store, paths: AppPaths) -> bool:
    if store.path is None:
        return True
    exists = path_exists(store.path)
    if exists is None:
        report.add(ERROR, "reachable", f"no answer within {EXISTS_TIMEOUT:.0f} s (share offline?)")
        return False
    if not exists:
        if paths.owns(Path(store.path)):
            report.add(OK, "reachable", "not created yet; the launcher creates it on first start")
            return False
        report.add(ERROR, "reachable", f"{store.display} does not exist")
        return False
    if store.is_unc:
        report.add(WARNING, "reachable", "on a network share: starts and pages may be slower")
    else:
        report.add(OK, "reachable", "yes")
    return True


def _schema_and_count(report: DoctorReport, store: Store, env: environment.PythonEnv) -> None:
    if store.kind is StoreKind.FOLDER:
        assert store.path is not None
        report.experiments = count_folder_experiments(Path(store.path))
        report.add(OK, "experiments", f"{report.experiments} active")
        report.add(
            WARNING,
            "schema",
            "folder stores are in maintenance mode in MLflow 3; the launcher allows them "
            "(MLFLOW_ALLOW_FILE_STORE=true). `mlflow migrate-filestore` moves one to SQL.",
        )
        listing = folder_cost.time_listing(Path(store.path))  # the cost, and the way out
        report.add(WARNING, "speed", folder_cost.describe(listing, report.project.name))
        return
    check = schema.check(store, env)
    report.schema = check
    report.experiments = check.experiments
    if check.state is schema.SchemaState.UNREADABLE:
        report.add(ERROR, "schema", f"the database could not be read: {check.error}")
        return
    if check.experiments is not None:
        report.add(OK, "experiments", f"{check.experiments} active")
    if check.state is schema.SchemaState.CURRENT:
        report.add(OK, "schema", f"revision {check.revision}, as MLflow {env.mlflow} expects")
    elif check.state is schema.SchemaState.MISSING:
        report.add(OK, "schema", "no database yet")
    else:
        report.add(ERROR, "schema", schema.explain(check, store, env, report.project.name))


def _exposure(report: DoctorReport, project: Project) -> None:
    host, port = commands.host_and_port(project)
    if host not in (LOOPBACK, "localhost", "::1"):
        report.add(WARNING, "network", f"serves on {host}: other machines can reach this UI")
    if port:
        report.add(OK, "port", f"fixed port {port}")


_ACTIVE = re.compile(r"^lifecycle_stage:\s*active\s*$", re.M)


def count_folder_experiments(root: Path) -> int:
    """Active experiments of a folder store: subfolders whose meta.yaml says active."""
    count = 0
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    for entry in entries:
        if entry.name.startswith(".") or entry.name == "models":
            continue
        meta = entry / "meta.yaml"
        try:
            if _ACTIVE.search(meta.read_text(encoding="utf-8", errors="replace")):
                count += 1
        except OSError:
            continue
    return count
