"""Moving a folder store to a new SQLite file, safely: MLflow's own converter, then a check.

Why this shape:
- MLflow's converter (``mlflow.store.fs2db``) runs in the project's Python environment, in a
  child process (``child/main.py migrate``): the project's MLflow writes the schema it will serve,
  it works frozen, and cancelling is killing that process.
- It writes a temporary file beside the target (same folder, so the final rename is atomic);
  the target name appears only once the file is complete AND verified. A cancel, a crash or a
  failed conversion deletes the temporary file: there is never a half database under the
  target's name. A verified difference keeps the new file aside (``*.unverified-*.db``) for a
  look, and reports what differs.
- The folder store is only read. Artifacts are not copied: the database keeps their URIs, so
  they stay where they are (the share must stay reachable).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psutil

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreError, StoreKind, redact
from launcher.server import lifeline, process_tree
from launcher.server.child.migrate import PROGRESS_MARK
from launcher.server.child.protocol import ERROR_MARK
from launcher.server.python import environment
from launcher.server.stores import migration_verify, shares
from launcher.server.stores.migration_verify import Verification

PARTIAL_MARK = ".partial-"


class MigrationError(Exception):
    """The migration cannot start or did not finish; the message is for the user, ``cause``
    the child's named cause (``target-auth``, ``target-not-empty``...) when it gave one."""

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class MigrationCancelled(MigrationError):
    """The user cancelled; nothing was written under the target's name."""


@dataclass(frozen=True)
class Step:
    """Progress: ``phase`` is 'runs' (copying), 'registry', 'verify' or 'done'."""

    phase: str
    done: int
    total: int
    text: str = ""

    def describe(self) -> str:
        if self.phase == "runs" and self.total:
            return f"copying runs: {self.done:,} of {self.total:,}"
        if self.phase == "verify" and self.total:
            return f"verifying: run {self.done:,} of {self.total:,}"
        return self.text or self.phase


@dataclass(frozen=True)
class Plan:
    project: Project
    source: Path
    """The folder store."""
    target: Path
    """The new SQLite file (does not exist yet, or is empty)."""
    registry: Path | None
    """The launcher's own registry folder for this project, when the store has no models/."""
    share: str | None
    """The kind of network share the target is on, or None (a local disk)."""

    @property
    def warning(self) -> str | None:
        if self.share is None:
            return None
        return (
            f"{self.target} is on {self.share}. SQLite over a network share is safe only for "
            "one user at a time: with several people logging at once the file can be "
            "corrupted. Keep it on a local disk, or use a database server for a team."
        )


@dataclass
class Result:
    plan: Plan
    verification: Verification
    seconds: float
    kept_aside: Path | None = None
    """Where the unverified new file was put when the stores differ."""
    log_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.kept_aside is None and self.verification.ok

    def report(self) -> str:
        lines = []
        if self.ok:
            lines.append(
                f"Moved {self.plan.source} to {self.plan.target} in {self.seconds:.1f} s, "
                f"verified: {self.verification.summary()} are the same in both."
            )
        else:
            lines.append(
                f"The new database differs from the folder store; it was kept aside as "
                f"{self.kept_aside} and the project was not switched. What differs:"
            )
            lines += [f"  - {d}" for d in self.verification.differences]
            if self.verification.more_differences:
                lines.append(f"  ... and {self.verification.more_differences} more")
        lines.append(
            "The folder store was only read (nothing in it changed). Artifacts were not copied: "
            "they stay where they are and the database points at them."
        )
        lines += self.notes
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "source": str(self.plan.source),
            "target": str(self.plan.target),
            "kept_aside": str(self.kept_aside) if self.kept_aside else None,
            "seconds": round(self.seconds, 2),
            "verification": self.verification.to_dict(),
            "warning": self.plan.warning,
        }


def default_target(paths: AppPaths, project: Project) -> Path:
    return paths.data_dir / "stores" / project.slug / "mlflow.db"


def plan(project: Project, paths: AppPaths, to: str | None = None) -> Plan:
    """Check that ``project`` can be migrated to ``to`` (default: the data dir); no writes."""
    try:
        store = project.parsed_store()
    except StoreError as exc:
        raise MigrationError(str(exc)) from exc
    if store.kind is not StoreKind.FOLDER or store.path is None:
        raise MigrationError(
            f"{project.name!r} is a {store.kind.label}, not a folder store: only folder "
            "stores are moved to SQLite."
        )
    source = Path(store.path)
    if not source.is_dir():
        raise MigrationError(f"The folder store {source} does not exist or cannot be reached.")
    target = Path(to).expanduser().absolute() if to else default_target(paths, project)
    if target.suffix.lower() not in (".db", ".sqlite", ".sqlite3"):
        raise MigrationError(f"{target}: the new database's name should end in .db.")
    if target.is_dir():
        raise MigrationError(f"{target} is a folder; give the path of a new .db file.")
    if target.exists() and target.stat().st_size > 0:
        raise MigrationError(
            f"{target} already exists and is not empty; the migration only writes a NEW "
            "database. Choose another file name (--to)."
        )
    if not target.parent.is_dir() and not paths.owns(target.parent):
        raise MigrationError(f"The folder {target.parent} does not exist.")
    with contextlib.suppress(OSError):
        if source.resolve() in target.resolve().parents:
            raise MigrationError("The new database cannot be inside the folder store itself.")
    registry = None
    own_registry = paths.registry_dir(project.slug)
    if not (source / "models").is_dir() and (own_registry / "models").is_dir():
        registry = own_registry
    return Plan(project, source, target, registry, shares.network_share(target.parent))


def migrate(
    the_plan: Plan,
    paths: AppPaths,
    *,
    progress: Callable[[Step], None] | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Convert, verify, and only then give the file its name. Raises MigrationError."""
    cancel = cancel or threading.Event()
    report = progress or (lambda step: None)
    target = the_plan.target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(target)
    temp = target.with_name(f".{target.name}{PARTIAL_MARK}{os.getpid()}")
    log_path = paths.log_dir / "migrations" / f"{the_plan.project.slug}.log"
    started = time.monotonic()
    try:
        convert(the_plan, temp, log_path, report, cancel)
        report(Step("verify", 0, 0, "verifying: reading both stores"))
        try:
            verification = migration_verify.verify(
                the_plan.source,
                temp,
                registry=the_plan.registry,
                progress=lambda done, total: report(Step("verify", done, total)),
                cancel=cancel,
            )
        except migration_verify.Cancelled as exc:
            raise MigrationCancelled("Cancelled; no database was written.") from exc
        except Exception as exc:  # an unreadable file, a share gone away
            raise MigrationError(f"The check after the migration failed: {exc}") from exc
        seconds = time.monotonic() - started
        result = Result(the_plan, verification, seconds, log_path=log_path)
        if the_plan.registry is not None:
            result.notes.append(
                f"Registered models were copied from the launcher's registry {the_plan.registry}."
            )
        if verification.ok:
            os.replace(temp, target)
        else:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            aside = target.with_name(f"{target.stem}.unverified-{stamp}{target.suffix}")
            os.replace(temp, aside)
            result.kept_aside = aside
        report(Step("done", 1, 1, "done"))
        return result
    finally:
        remove_partial(temp)


def convert(
    the_plan: Plan,
    temp: Path,
    log_path: Path,
    report: Callable[[Step], None],
    cancel: threading.Event,
) -> None:
    """Run ``child/main.py migrate`` in the project's environment into ``temp``."""
    args = ["migrate", str(the_plan.source), str(temp), "--watch-stdin"]
    if the_plan.registry is not None:
        args += ["--registry", str(the_plan.registry)]
    try:
        run_child(the_plan.project, args, log_path, report, cancel, f"migrating {the_plan.source}")
    except MigrationCancelled:
        raise
    except MigrationError as exc:
        message = f"{exc}; no database was written. Details: {log_path}"
        raise MigrationError(message, exc.cause) from None


def run_child(
    project: Project,
    args: list[str],
    log_path: Path,
    report: Callable[[Step], None],
    cancel: threading.Event,
    title: str,
    extra_env: dict[str, str] | None = None,
    failed: str = "MLflow's migration failed",
) -> None:
    """Run ``child/main.py ARGS`` in the project's Python; raise MigrationError (``failed``,
    then the child's named cause). ``extra_env`` carries what must not be in argv (a database
    URL); every line logged is redacted."""
    try:
        env = environment.resolve(project.python)
    except environment.EnvironmentError_ as exc:
        raise MigrationError(str(exc)) from exc
    if not env.mlflow:
        raise MigrationError(f"{env.python} has no MLflow to run the migration with.")
    run_env = env.child_env(dict(os.environ))
    run_env.update({"MLFLOW_ALLOW_FILE_STORE": "true", "PYTHONUNBUFFERED": "1"})
    run_env["PYTHONIOENCODING"] = "utf-8"
    run_env.update(extra_env or {})
    kwargs: dict = {}
    if os.name == "nt":
        kwargs["creationflags"] = (
            subprocess.CREATE_NO_WINDOW | subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        )
    else:
        kwargs["start_new_session"] = True  # Ctrl-C reaches us, and we stop the child
    log_path.parent.mkdir(parents=True, exist_ok=True)
    work = str(log_path.parent)  # local: cmd.exe and friends reject a UNC working directory
    tail: deque[str] = deque(maxlen=40)
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"=== {datetime.now():%Y-%m-%d %H:%M:%S} {redact(title)}\n")
        log.flush()
        try:
            proc = subprocess.Popen(
                env.child_command(*args),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=run_env,
                cwd=work,
                **kwargs,
            )
        except OSError as exc:
            raise MigrationError(f"Could not run {env.python}: {exc}") from exc
        lifeline.adopt(proc.pid)
        reader = threading.Thread(
            target=_read, args=(proc, log, tail, report), name="migration-log", daemon=True
        )
        reader.start()
        try:
            while proc.poll() is None:
                if cancel.is_set():
                    raise MigrationCancelled("Cancelled; no database was written.")
                time.sleep(0.1)
            reader.join(5)
        finally:
            _stop(proc)
            reader.join(5)
    if proc.returncode != 0:
        errors = [line.split(ERROR_MARK, 1)[1].strip() for line in tail if ERROR_MARK in line]
        last = [line for line in tail if line.strip()][-1:] or ["no output"]
        cause = errors[-1] if errors else last[0]
        kind = cause.split(":", 1)[0] if errors and ":" in cause else None
        raise MigrationError(f"{failed} ({cause})", kind)


def _read(
    proc: subprocess.Popen[bytes],
    log: object,
    tail: deque[str],
    report: Callable[[Step], None],
) -> None:
    assert proc.stdout is not None
    for raw in iter(proc.stdout.readline, b""):
        line = redact(raw.decode("utf-8", "replace").rstrip("\r\n"))
        if line.startswith(PROGRESS_MARK):
            with contextlib.suppress(ValueError, TypeError, KeyError):
                data = json.loads(line[len(PROGRESS_MARK) :])
                report(Step(data["phase"], int(data["done"]), int(data["total"]), data["text"]))
            continue
        tail.append(line)
        with contextlib.suppress(OSError, ValueError):
            log.write(line + "\n")  # type: ignore[attr-defined]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        process_tree.kill(proc.pid, process_tree.descendants(proc.pid))
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def remove_partial(temp: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(temp) + suffix).unlink()


def _remove_stale_partials(target: Path) -> None:
    """Temporary files a killed launcher left beside the target (their process is gone)."""
    with contextlib.suppress(OSError):
        for path in target.parent.glob(f".{target.name}{PARTIAL_MARK}*"):
            pid = path.name.rsplit(PARTIAL_MARK, 1)[1].split("-")[0]
            if pid.isdigit() and not psutil.pid_exists(int(pid)):
                remove_partial(path)
