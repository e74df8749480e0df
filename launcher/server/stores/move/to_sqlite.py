"""Moving a folder store to a new SQLite file, safely: MLflow's own converter, then a check.

Why this shape:
- MLflow's converter (``mlflow.store.fs2db``) runs in the project's Python environment, in a
  child process (``child/move/to_sqlite.py``, through ``child_run``): the project's MLflow writes
  the schema it will serve, it works frozen, and cancelling is killing that process.
- It writes a temporary file beside the target (``partial_files``); the target name appears
  only once the file is complete AND verified. A cancel, a crash or a
  failed conversion deletes the temporary file: there is never a half database under the
  target's name. A verified difference keeps the new file aside (``*.unverified-*.db``) for a
  look, and reports what differs.
- The folder store is only read. Artifacts are not copied: the database keeps their URIs, so
  they stay where they are (the share must stay reachable).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import StoreError, StoreKind
from launcher.server.stores import shares
from launcher.server.stores.move import verify
from launcher.server.stores.move.child_run import (
    MoveCancelled,
    MoveError,
    Step,
    log_path_of,
    run_child,
)
from launcher.server.stores.move.partial_files import (
    partial_path,
    remove_partial,
    remove_stale_partials,
)
from launcher.server.stores.move.verify import Verification


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
    """Check that ``project`` can be moved to ``to`` (default: the data dir); no writes."""
    try:
        store = project.parsed_store()
    except StoreError as exc:
        raise MoveError(str(exc)) from exc
    if store.kind is not StoreKind.FOLDER or store.path is None:
        raise MoveError(
            f"{project.name!r} is a {store.kind.label}, not a folder store: only folder "
            "stores are moved to SQLite."
        )
    source = Path(store.path)
    if not source.is_dir():
        raise MoveError(f"The folder store {source} does not exist or cannot be reached.")
    target = Path(to).expanduser().absolute() if to else default_target(paths, project)
    if target.suffix.lower() not in (".db", ".sqlite", ".sqlite3"):
        raise MoveError(f"{target}: the new database's name should end in .db.")
    if target.is_dir():
        raise MoveError(f"{target} is a folder; give the path of a new .db file.")
    if target.exists() and target.stat().st_size > 0:
        raise MoveError(
            f"{target} already exists and is not empty; the move only writes a NEW "
            "database. Choose another file name (--to)."
        )
    if not target.parent.is_dir() and not paths.owns(target.parent):
        raise MoveError(f"The folder {target.parent} does not exist.")
    with contextlib.suppress(OSError):
        if source.resolve() in target.resolve().parents:
            raise MoveError("The new database cannot be inside the folder store itself.")
    registry = None
    own_registry = paths.registry_dir(project.slug)
    if not (source / "models").is_dir() and (own_registry / "models").is_dir():
        registry = own_registry
    return Plan(project, source, target, registry, shares.network_share(target.parent))


def move(
    the_plan: Plan,
    paths: AppPaths,
    *,
    progress: Callable[[Step], None] | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Convert, verify, and only then give the file its name. Raises MoveError."""
    cancel = cancel or threading.Event()
    report = progress or (lambda step: None)
    target = the_plan.target
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target)
    temp = partial_path(target)
    log_path = log_path_of(paths, the_plan.project)
    started = time.monotonic()
    try:
        convert(the_plan, temp, log_path, report, cancel)
        report(Step("verify", 0, 0, "verifying: reading both stores"))
        try:
            verification = verify.verify(
                the_plan.source,
                temp,
                registry=the_plan.registry,
                progress=lambda done, total: report(Step("verify", done, total)),
                cancel=cancel,
            )
        except verify.Cancelled as exc:
            raise MoveCancelled("Cancelled; no database was written.") from exc
        except Exception as exc:  # an unreadable file, a share gone away
            raise MoveError(f"The check after the move failed: {exc}") from exc
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
    """Run ``child/move/to_sqlite.py`` in the project's environment into ``temp``."""
    args = ["move-to-sqlite", str(the_plan.source), str(temp)]
    if the_plan.registry is not None:
        args += ["--registry", str(the_plan.registry)]
    try:
        run_child(
            the_plan.project,
            args,
            log_path=log_path,
            title=f"moving {the_plan.source}",
            report=report,
            cancel=cancel,
        )
    except MoveCancelled:
        raise
    except MoveError as exc:
        message = f"{exc}; no database was written. Details: {log_path}"
        raise MoveError(message, exc.cause) from None
