"""Every record kind MLflow 3 keeps and ``mlflow.store.fs2db`` moves, counted on both sides.

A move's report says how many of each kind arrived, and a kind the check forgot is a kind
that can silently go missing: this module is the one list of them (:data:`KINDS`, each with the
SQL table that holds it), counted in a folder store by its files and in a SQL store by its
tables. ``move.verify`` compares the two counts for a folder -> SQLite move; a move to a
team database compares the SQLite file and the database table by table (``child/copy_db.py``)
and reports these same kinds.

Spans are the exception: a SQL store keeps them in its ``spans`` table, a folder store in each
trace's artifacts (``traces/<id>/artifacts/traces.json``), and fs2db leaves them there, pointed
at by the trace's ``mlflow.artifactLocation`` tag; they are counted in those files (:data:`SPANS`)
and never copied.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

KINDS: tuple[tuple[str, str], ...] = (
    ("experiments", "experiments"),
    ("experiment tags", "experiment_tags"),
    ("runs", "runs"),
    ("params", "params"),
    ("run tags", "tags"),
    ("metric points", "metrics"),
    ("datasets", "datasets"),
    ("dataset inputs", "inputs"),
    ("input tags", "input_tags"),
    ("logged models", "logged_models"),
    ("logged-model params", "logged_model_params"),
    ("logged-model tags", "logged_model_tags"),
    ("logged-model metrics", "logged_model_metrics"),
    ("traces", "trace_info"),
    ("trace tags", "trace_tags"),
    ("trace metadata", "trace_request_metadata"),
    ("assessments", "assessments"),
    ("spans", "spans"),
    ("registered models", "registered_models"),
    ("registered-model tags", "registered_model_tags"),
    ("model versions", "model_versions"),
    ("version tags", "model_version_tags"),
    ("aliases", "registered_model_aliases"),
)
"""(what the user reads, the table holding it), in the order a report lists them."""
SPANS = "spans (in the traces' artifacts)"
_TRACE_NAME_TAG = "mlflow.traceName"  # fs2db moves it into the trace's own row


def describe(counts: dict[str, int]) -> str:
    """``4 experiments, 1 experiment tags, ...`` for every kind counted (zeros included)."""
    labels = dict((table, label) for label, table in KINDS)
    # A folder store's spans are in its artifacts: an empty spans table says nothing then.
    hide = {"spans"} if SPANS in counts and not counts.get("spans") else set()
    parts = [f"{counts[t]:,} {labels[t]}" for _, t in KINDS if t in counts and t not in hide]
    if SPANS in counts:
        parts.append(f"{counts[SPANS]:,} {SPANS}")
    return ", ".join(parts)


def sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per kind's table of a SQLite store (a table this MLflow lacks counts 0)."""
    present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    return {
        table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        if table in present
        else 0
        for _, table in KINDS
    }


def read_yaml(path: Path) -> dict[str, Any] | None:
    """A folder store's YAML file as a mapping; None when it is missing, unreadable or not one."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _count_files(folder: Path, skip: tuple[str, ...] = ()) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.name not in skip)


def _lines(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(
        sum(1 for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
        for p in folder.rglob("*")
        if p.is_file()
    )


def _subdirs(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir() if p.is_dir())


def folder_counts(
    experiment_dirs: list[Path], registry_root: Path
) -> tuple[dict[str, int], dict[str, int]]:
    """(kinds beyond runs/params/tags/metrics counted by the files, logged models' status by id).

    ``experiment_dirs`` are the experiment folders (trash included) as the converter visits them.
    """
    counts = dict.fromkeys(
        (
            "experiment_tags",
            "datasets",
            "inputs",
            "input_tags",
            "logged_models",
            "logged_model_params",
            "logged_model_tags",
            "logged_model_metrics",
            "trace_info",
            "trace_tags",
            "trace_request_metadata",
            "assessments",
            "registered_model_tags",
            "model_version_tags",
            "registered_model_aliases",
            SPANS,
        ),
        0,
    )
    statuses: dict[str, int] = {}
    for exp in experiment_dirs:
        counts["experiment_tags"] += _count_files(exp / "tags")
        counts["datasets"] += sum(
            1 for d in _subdirs(exp / "datasets") if (d / "meta.yaml").is_file()
        )
        for run in _subdirs(exp):
            for kind in ("inputs", "outputs"):
                for item in _subdirs(run / kind):
                    meta = read_yaml(item / "meta.yaml")
                    if meta is not None:
                        counts["inputs"] += 1
                        counts["input_tags"] += len(meta.get("tags") or {})
        for model in _subdirs(exp / "models"):
            meta = read_yaml(model / "meta.yaml")
            if meta is None:
                continue
            counts["logged_models"] += 1
            statuses[str(meta.get("model_id", model.name))] = int(meta.get("status") or 0)
            counts["logged_model_params"] += _count_files(model / "params")
            counts["logged_model_tags"] += _count_files(model / "tags")
            counts["logged_model_metrics"] += _lines(model / "metrics")
        for trace in _subdirs(exp / "traces"):
            if not (trace / "trace_info.yaml").is_file():
                continue
            counts["trace_info"] += 1
            counts["trace_tags"] += _count_files(trace / "tags", skip=(_TRACE_NAME_TAG,))
            counts["trace_request_metadata"] += _count_files(trace / "request_metadata")
            counts["assessments"] += _count_files(trace / "assessments")
            counts[SPANS] += _spans(trace / "artifacts" / "traces.json")
    for model in _subdirs(registry_root / "models"):
        counts["registered_model_tags"] += _count_files(model / "tags")
        counts["registered_model_aliases"] += _count_files(model / "aliases")
        for version in _subdirs(model):
            if version.name.startswith("version-"):
                counts["model_version_tags"] += _count_files(version / "tags")
    return counts, statuses


def _spans(path: Path) -> int:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    return len(data.get("spans") or []) if isinstance(data, dict) else 0
