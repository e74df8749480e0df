"""Does a moved-to SQLite file hold what the folder store holds? Read both, compare, name what
differs.

Both sides are read read-only and independently of the converter: the folder store by its
files (``meta.yaml``, ``params/``, ``tags/``, ``metrics/``, ``models/``), the database with the
standard library's ``sqlite3`` opened in ``mode=ro``. A second reading by other code is what
makes this a check rather than the converter agreeing with itself.

Compared: experiments (deleted ones too: name and lifecycle stage), the runs of each experiment
(lifecycle stage), every run's params and tags, every metric history's length, the full metric
histories (timestamp, step, value) of a sample of runs, registered models and their versions;
and, by count per kind (``record_kinds``), experiment tags, datasets and dataset inputs with
their tags, logged models (params, tags, metrics; their status one by one), traces (tags,
metadata, assessments; spans stay in the traces' artifacts and are counted there),
registered-model tags, version tags and aliases.
"""

from __future__ import annotations

import math
import random
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launcher.server.stores import record_kinds

SAMPLE_RUNS = 50
"""Runs whose metric values are compared point by point (counts are compared for every run)."""
MAX_DIFFERENCES = 20
"""The report names this many differences and counts the rest."""
_MAX_FLOAT = 1.7976931348623157e308

Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """The user cancelled while the stores were being compared."""


@dataclass
class Verification:
    experiments: int = 0
    runs: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    sampled_runs: int = 0
    registered_models: int = 0
    model_versions: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    """Records per kind's table (``record_kinds.KINDS``), as counted in the folder store."""
    differences: list[str] = field(default_factory=list)
    more_differences: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences

    def differ(self, text: str) -> None:
        if len(self.differences) < MAX_DIFFERENCES:
            self.differences.append(text)
        else:
            self.more_differences += 1

    def counts(self) -> dict[str, int]:
        """Every kind's count: the ones compared record by record, then the counted ones."""
        return {
            **self.kinds,
            "experiments": self.experiments,
            "runs": self.runs,
            "params": self.params,
            "tags": self.tags,
            "metrics": self.metric_points,
            "registered_models": self.registered_models,
            "model_versions": self.model_versions,
        }

    def summary(self) -> str:
        return (
            f"{record_kinds.describe(self.counts())} (metric values compared point by point "
            f"for {self.sampled_runs} runs)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "experiments": self.experiments,
            "runs": self.runs,
            "params": self.params,
            "tags": self.tags,
            "metric_points": self.metric_points,
            "sampled_runs": self.sampled_runs,
            "registered_models": self.registered_models,
            "model_versions": self.model_versions,
            "kinds": self.counts(),
            "differences": self.differences,
            "more_differences": self.more_differences,
        }


# -- the folder store, by its files ------------------------------------------------------------


def _files(folder: Path) -> dict[str, str]:
    """Key (nested keys joined by '/') to text, as MLflow's folder store writes params/tags."""
    if not folder.is_dir():
        return {}
    out: dict[str, str] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            out[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    return out


def _metric_points(text: str) -> list[tuple[int, int, float, bool]]:
    """(timestamp, step, value, is_nan) as the converter stores them (NaN as 0, inf clamped)."""
    points = []
    for line in text.splitlines():
        parts = line.strip().split(" ")
        if len(parts) < 2:
            continue
        value = float(parts[1])
        step = int(parts[2]) if len(parts) > 2 else 0
        nan = math.isnan(value)
        if nan:
            value = 0.0
        elif math.isinf(value):
            value = _MAX_FLOAT if value > 0 else -_MAX_FLOAT
        points.append((int(parts[0]), step, value, nan))
    return points


def _experiment_dirs(mlruns: Path) -> Iterator[Path]:
    for parent in (mlruns, mlruns / ".trash"):
        if parent.is_dir():
            for child in sorted(parent.iterdir()):
                if child.is_dir() and child.name.isdigit():
                    yield child


def mlruns_of(source: Path) -> Path:
    """The folder the converter reads: ``source/mlruns`` when it exists, else ``source``."""
    return source / "mlruns" if (source / "mlruns").is_dir() else source


# -- the comparison ---------------------------------------------------------------------------


def verify(
    source: Path,
    database: Path,
    *,
    registry: Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    sample: int = SAMPLE_RUNS,
) -> Verification:
    """Compare the folder store ``source`` with the SQLite file ``database``.

    ``registry`` is a separate folder-registry root (the launcher's, for stores without
    ``models/``); by default the store's own ``models/`` folder is compared.
    """
    mlruns = mlruns_of(source)
    result = Verification()
    conn = sqlite3.connect(f"{database.absolute().as_uri()}?mode=ro", uri=True)
    try:
        db = _Database(conn)
        run_dirs = _compare_experiments(mlruns, db, result)
        _compare_runs(run_dirs, db, result, progress, cancel, sample)
        _compare_registry(registry or mlruns, db, result)
        _compare_kinds(mlruns, registry or mlruns, conn, result)
    finally:
        conn.close()
    return result


class _Database:
    """The new file, read in a few grouped queries rather than one per run."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, args))

    def grouped(self, sql: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(dict)
        for owner, key, value in self.conn.execute(sql):
            out[owner][key] = value
        return out


def _compare_experiments(
    mlruns: Path, db: _Database, result: Verification
) -> list[tuple[str, Path]]:
    in_db = {
        str(eid): (name, stage)
        for eid, name, stage in db.rows(
            "SELECT experiment_id, name, lifecycle_stage FROM experiments"
        )
    }
    runs: list[tuple[str, Path]] = []
    seen: set[str] = set()
    for exp_dir in _experiment_dirs(mlruns):
        meta = record_kinds.read_yaml(exp_dir / "meta.yaml")
        if meta is None:
            result.differ(f"experiment folder {exp_dir.name}: meta.yaml unreadable, not copied")
            continue
        eid = exp_dir.name
        seen.add(eid)
        result.experiments += 1
        name = meta.get("name", f"experiment_{eid}")
        stage = meta.get("lifecycle_stage", "active")
        if eid not in in_db:
            result.differ(f"experiment {eid} ({name!r}, {stage}) is missing from the database")
            continue
        if in_db[eid] != (name, stage):
            result.differ(
                f"experiment {eid}: folder has {(name, stage)}, database has {in_db[eid]}"
            )
        for run_dir in sorted(exp_dir.iterdir()):
            if run_dir.is_dir() and (run_dir / "meta.yaml").is_file():
                runs.append((eid, run_dir))
    for eid in sorted(set(in_db) - seen):
        result.differ(f"experiment {eid} ({in_db[eid][0]!r}) is in the database only")
    return runs


def _compare_runs(
    run_dirs: list[tuple[str, Path]],
    db: _Database,
    result: Verification,
    progress: Progress | None,
    cancel: threading.Event | None,
    sample: int,
) -> None:
    in_db = {
        run: (str(eid), stage)
        for run, eid, stage in db.rows("SELECT run_uuid, experiment_id, lifecycle_stage FROM runs")
    }
    params = db.grouped("SELECT run_uuid, key, value FROM params")
    tags = db.grouped("SELECT run_uuid, key, value FROM tags")
    counts = db.grouped("SELECT run_uuid, key, COUNT(*) FROM metrics GROUP BY run_uuid, key")
    chosen = set(random.Random(0).sample(range(len(run_dirs)), min(sample, len(run_dirs))))
    seen: set[str] = set()
    for index, (eid, run_dir) in enumerate(run_dirs):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if progress is not None and (index % 25 == 0 or index + 1 == len(run_dirs)):
            progress(index + 1, len(run_dirs))
        meta = record_kinds.read_yaml(run_dir / "meta.yaml")
        run_id = (meta or {}).get("run_uuid") or (meta or {}).get("run_id")
        if not run_id:
            result.differ(f"run folder {eid}/{run_dir.name}: no readable run id, not copied")
            continue
        assert meta is not None
        seen.add(run_id)
        result.runs += 1
        where = f"run {run_id} (experiment {eid})"
        stage = meta.get("lifecycle_stage", "active")
        if run_id not in in_db:
            result.differ(f"{where} is missing from the database")
            continue
        if in_db[run_id] != (eid, stage):
            result.differ(f"{where}: folder has {(eid, stage)}, database has {in_db[run_id]}")
        for kind, folder, table in (
            ("params", "params", params),
            ("tags", "tags", tags),
        ):
            on_disk = _files(run_dir / folder)
            setattr(result, kind, getattr(result, kind) + len(on_disk))
            stored = table.get(run_id, {})
            if on_disk != stored:
                keys = sorted(
                    k for k in set(on_disk) | set(stored) if on_disk.get(k) != stored.get(k)
                )
                result.differ(f"{where}: {kind} differ ({', '.join(keys[:5])})")
        metrics = _files(run_dir / "metrics")
        points = {key: _metric_points(text) for key, text in metrics.items()}
        result.metric_points += sum(len(p) for p in points.values())
        stored_counts = counts.get(run_id, {})
        lengths = {key: len(p) for key, p in points.items()}
        if lengths != stored_counts:
            keys = sorted(
                k
                for k in set(lengths) | set(stored_counts)
                if lengths.get(k) != stored_counts.get(k)
            )
            result.differ(f"{where}: metric histories differ in length ({', '.join(keys[:5])})")
        elif index in chosen:
            result.sampled_runs += 1
            _compare_points(where, run_id, points, db, result)
    for run_id in sorted(set(in_db) - seen):
        result.differ(f"run {run_id} is in the database only")


def _compare_points(
    where: str,
    run_id: str,
    points: dict[str, list[tuple[int, int, float, bool]]],
    db: _Database,
    result: Verification,
) -> None:
    stored: dict[str, list[tuple[int, int, float, bool]]] = defaultdict(list)
    for key, ts, step, value, nan in db.rows(
        "SELECT key, timestamp, step, value, is_nan FROM metrics WHERE run_uuid = ?", run_id
    ):
        stored[key].append((int(ts), int(step), float(value), bool(nan)))
    for key, on_disk in points.items():
        if sorted(on_disk) != sorted(stored.get(key, [])):
            result.differ(f"{where}: values of metric {key!r} differ")


def _compare_registry(root: Path, db: _Database, result: Verification) -> None:
    models_dir = root / "models"
    on_disk: dict[str, set[int]] = {}
    if models_dir.is_dir():
        for model_dir in sorted(models_dir.iterdir()):
            meta = record_kinds.read_yaml(model_dir / "meta.yaml") if model_dir.is_dir() else None
            if meta is None:
                continue
            versions = set()
            for version_dir in model_dir.iterdir():
                if version_dir.name.startswith("version-"):
                    vmeta = record_kinds.read_yaml(version_dir / "meta.yaml")
                    if vmeta is not None and "version" in vmeta:
                        versions.add(int(vmeta["version"]))
            on_disk[str(meta.get("name", model_dir.name))] = versions
    stored: dict[str, set[int]] = {
        name: set() for (name,) in db.rows("SELECT name FROM registered_models")
    }
    for name, version in db.rows("SELECT name, version FROM model_versions"):
        stored.setdefault(name, set()).add(int(version))
    result.registered_models = len(on_disk)
    result.model_versions = sum(len(v) for v in on_disk.values())
    for name in sorted(set(on_disk) | set(stored)):
        if name not in stored:
            result.differ(f"registered model {name!r} is missing from the database")
        elif name not in on_disk:
            result.differ(f"registered model {name!r} is in the database only")
        elif on_disk[name] != stored[name]:
            result.differ(
                f"registered model {name!r}: versions {sorted(on_disk[name])} in the folder, "
                f"{sorted(stored[name])} in the database"
            )


def _compare_kinds(
    mlruns: Path, registry_root: Path, conn: sqlite3.Connection, result: Verification
) -> None:
    """The kinds compared by count, and each logged model's status."""
    on_disk, statuses = record_kinds.folder_counts(list(_experiment_dirs(mlruns)), registry_root)
    stored = record_kinds.sqlite_counts(conn)
    labels = {table: label for label, table in record_kinds.KINDS}
    for table, count in on_disk.items():
        result.kinds[table] = count
        if table in stored and stored[table] != count:
            result.differ(
                f"{labels[table]}: {count} in the folder, {stored[table]} in the database"
            )
    in_db = dict(conn.execute("SELECT model_id, status FROM logged_models"))
    for model_id, status in sorted(statuses.items()):
        if model_id in in_db and int(in_db[model_id]) != status:
            result.differ(
                f"logged model {model_id}: status {status} in the folder, {in_db[model_id]} in "
                "the database"
            )
