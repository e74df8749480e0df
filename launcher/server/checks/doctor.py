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
from launcher.model.stores import Store, StoreKind
from launcher.server import access_key, rest
from launcher.server.checks import preflight
from launcher.server.checks.preflight import Finding, Level
from launcher.server.python import environment
from launcher.server.python import server_command as commands
from launcher.server.stores import artifact_root, folder_cost, schema

OK, WARNING, ERROR = Level.OK, Level.WARNING, Level.ERROR


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
        return not any(f.is_error for f in self.findings)

    def add(self, level: Level, topic: str, text: str) -> None:
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
            "findings": [f.to_dict() for f in self.findings],
        }


def diagnose(project: Project, paths: AppPaths) -> DoctorReport:
    """Every pre-flight check a start runs (:mod:`preflight`), and what only a person needs."""
    report = DoctorReport(project)
    store, found = preflight.parse_store(project)
    report.findings.append(found)
    if store is None:
        return report
    report.store = store
    if store.kind is StoreKind.REMOTE:
        _remote(report, store, project.workspace)
        _access(report, project, remote=True, lean=None)
        return report
    env = _environment(report, project)
    reachable = preflight.store_reachable(store, paths)
    report.findings.append(reachable)
    if env is not None and not reachable.is_error and _exists(store):
        _schema_and_count(report, store, env, paths)
    _exposure(report, project)
    fine, where = artifact_root.describe(project, store, paths)
    report.add(OK if fine else WARNING, "artifacts", where)
    lean = None if env is None else env.lean and commands.parse_extra(project.extra_args)[1]
    _access(report, project, remote=False, lean=lean)
    return report


def _exists(store: Store) -> bool:
    """A database server, or a file store that is there (the own store may not be yet)."""
    return store.path is None or Path(store.path).exists()


def _access(report: DoctorReport, project: Project, *, remote: bool, lean: bool | None) -> None:
    protected, text = access_key.protection(project, remote=remote, lean=lean)
    report.add(OK if protected else WARNING, "access", text)


def _remote(report: DoctorReport, store: Store, workspace: str = "") -> None:
    found = preflight.remote_answers(store)
    if found.is_error:
        report.findings.append(found)
        return
    version = (rest.get_text(store.uri + "/version", 10) or "?").strip()
    report.mlflow = version
    report.add(OK, "reachable", f"answers; MLflow {version}")
    try:
        report.experiments = len(rest.search_experiments(store.uri, workspace=workspace))
        where = f" in workspace {workspace!r}" if workspace else ""
        report.add(OK, "experiments", f"{report.experiments}{where}")
    except (OSError, ValueError) as exc:
        report.add(WARNING, "experiments", f"could not be listed: {exc}")


def _environment(report: DoctorReport, project: Project) -> environment.PythonEnv | None:
    env, found = preflight.resolve_environment(project)
    if env is None:
        report.findings.append(found)
        return None
    report.mlflow = env.mlflow
    _, lean_args = commands.parse_extra(project.extra_args)
    how = (
        "lean server (one in-process worker)"
        if env.lean and lean_args
        else "mlflow server --workers 1 (fallback: "
        + ("extra arguments need it)" if env.lean else "this MLflow lacks the lean internals)")
    )
    report.add(OK, "mlflow", f"{found.text}; {how}")
    return env


def _schema_and_count(
    report: DoctorReport, store: Store, env: environment.PythonEnv, paths: AppPaths
) -> None:
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
    check, found = preflight.schema_fits(store, env, paths, report.project.name)
    report.schema = check
    report.experiments = check.experiments
    if check.experiments is not None and check.state is not schema.SchemaState.UNREADABLE:
        report.add(OK, "experiments", _in_workspace(report, store, check.experiments))
    report.findings.append(found)


def _exposure(report: DoctorReport, project: Project) -> None:
    host, port = commands.host_and_port(project)
    if host not in (LOOPBACK, "localhost", "::1"):
        report.add(WARNING, "network", f"serves on {host}: other machines can reach this UI")
    if port:
        report.add(OK, "port", f"fixed port {port}")


_ACTIVE = re.compile(r"^lifecycle_stage:\s*active\s*$", re.M)


def _in_workspace(report: DoctorReport, store: Store, count: int) -> str:
    """The active experiments: of the project's workspace where it is one (SQLite read here;
    another database's count is of all its workspaces, and says so)."""
    workspace = report.project.workspace
    if not workspace:
        return f"{count} active"
    if store.kind is StoreKind.SQLITE and store.path:
        from launcher.server.stores.experiments import read_sqlite_store

        found = read_sqlite_store(store.path, workspace)
        report.experiments = sum(1 for e in found if e.active)
        return f"{report.experiments} active in workspace {workspace!r}"
    return f"{count} active (all workspaces)"


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
