"""Moving a folder store into a new SQLite file: ``commands.py move-to-sqlite``, in the project's
Python environment.

Like every module of this package it imports only the standard library at module level and
MLflow inside its functions. It runs MLflow's own converter (``mlflow.store.fs2db.migrate``, what
``mlflow migrate-filestore`` runs) into a file the launcher named, and reports progress as
one JSON line per step on standard output, prefixed with ``protocol.PROGRESS_MARK``, so the
launcher can show "run 350 of 1,000" instead of a frozen window.

It writes only the target file: the folder store is read, never written (MLflow's converter
reads the files directly and opens no ``FileStore``, which would create ``.trash``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from .. import protocol


def count_runs(mlruns: Path) -> int:
    """How many run folders the converter will visit (one directory listing per experiment)."""
    total = 0
    for parent in (mlruns, mlruns / ".trash"):
        try:
            experiments = [d for d in parent.iterdir() if d.is_dir() and d.name.isdigit()]
        except OSError:
            continue
        for exp in experiments:
            with contextlib.suppress(OSError):
                total += sum(1 for r in exp.iterdir() if (r / "meta.yaml").is_file())
    return total


def move(source: str, target: str, registry: str | None) -> int:
    """Move ``source`` (a folder store) into the new SQLite file ``target``."""
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        from mlflow.store import fs2db
        from mlflow.store.fs2db import _tracking
    except ImportError as exc:
        protocol.error(
            "mlflow-missing",
            "this MLflow cannot move a folder store "
            f"(mlflow.store.fs2db, MLflow 3.10 or newer, is missing): {exc}",
        )
        return protocol.EXIT_MLFLOW_MISSING
    mlruns = fs2db._resolve_mlruns(Path(source))
    total = count_runs(mlruns)
    protocol.progress("runs", 0, total, f"{total} runs to copy")
    done = [0]
    original = getattr(_tracking, "_migrate_one_run", None)
    if original is not None:
        # Finer progress than the converter's one line per experiment: a 5,000-run experiment
        # is one line, and minutes long, over a share.
        def counted(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            done[0] += 1
            if done[0] % 25 == 0 or done[0] == total:
                protocol.progress("runs", done[0], total)
            return result

        _tracking._migrate_one_run = counted
    uri = "sqlite:///" + str(Path(target).absolute()).replace("\\", "/")
    fs2db.migrate(mlruns, uri, progress=True)
    if registry:
        protocol.progress("registry", 0, 0, f"copying registered models from {registry}")
        _migrate_registry(Path(registry), uri)
    _self_contained(target)
    protocol.progress("done", total, total)
    return 0


def _migrate_registry(root: Path, uri: str) -> None:
    """Registered models the launcher kept beside a store that had no ``models/`` folder."""
    from mlflow.store.fs2db._registry import _migrate_one_registered_model, list_registered_models
    from mlflow.store.fs2db._utils import MigrationStats
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(uri)
    try:
        with Session(engine) as session:
            stats = MigrationStats()
            for model_dir in list_registered_models(root):
                _migrate_one_registered_model(session, model_dir, stats)
                session.flush()
            session.commit()
    finally:
        engine.dispose()


def _self_contained(target: str) -> None:
    """The converter leaves the file in WAL mode; one file, no ``-wal``/``-shm`` beside it, is
    what can be renamed, copied and opened read-only safely."""
    import gc

    gc.collect()  # the converter's engine is not disposed: its pooled connection must go first
    conn = sqlite3.connect(target, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
