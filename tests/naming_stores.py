"""Real MLflow stores named by the team convention (and not), written by the mlflow client.

Run as ``python tests/naming_stores.py SPEC.json``: one child process (one ``import mlflow``)
writes every store the spec lists. :func:`stores` builds them once per test session in the
session's temp folder and hands out copies, whichever test module asks first.

The layout also serves discovery: a share-like tree with folder and SQLite stores, a store
whose artifacts hold a copied ``mlruns``, and look-alikes.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

PREFIX = "dra_"
NAMES = [
    "dra_train_001_baseline",
    "dra_train_002_bigger_lr",
    "dra_train_004_after_gap",
    "dra_eval_001_holdout",
    "dra_prep_01_clean",
    "dra_train_005_abandoned",
    "dra_notes",
    "dra_train_x_bad",
    "dra_emitter_train_001_x",
    "other_train_009_x",
    "scratch notes",
]
"""In creation order (oldest first). ``dra_train_005_abandoned`` is deleted afterwards."""
DELETED = ["dra_train_005_abandoned"]
PROJECT_ACTIVE = [
    "dra_train_001_baseline",
    "dra_train_002_bigger_lr",
    "dra_train_004_after_gap",
    "dra_eval_001_holdout",
    "dra_prep_01_clean",
    "dra_notes",
    "dra_train_x_bad",
    "dra_emitter_train_001_x",
]
"""The active experiments whose names start with PREFIX."""


def _make(spec: dict) -> None:
    """In the child: write one store as ``spec`` says."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow

    dest = os.path.abspath(spec["dest"])
    if spec["kind"] == "folder":
        uri = "file:///" + dest.lstrip("/").replace("\\", "/")
    else:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        uri = "sqlite:///" + dest.replace("\\", "/")
    cwd = spec.get("cwd")
    if cwd:  # a SQL store's client puts artifacts in ./mlruns of its working directory
        os.makedirs(cwd, exist_ok=True)
        os.chdir(cwd)
    client = mlflow.MlflowClient(uri)
    ids = {}
    for name in spec["names"]:
        ids[name] = client.create_experiment(name)
        time.sleep(0.02)  # distinct creation times: "newest first" must be decidable
    artifact = spec.get("artifact")
    if artifact:
        run = client.create_run(ids[spec["names"][0]])
        client.log_artifacts(run.info.run_id, artifact, "backup")
        client.set_terminated(run.info.run_id)
    for name in spec.get("deleted", []):
        client.delete_experiment(ids[name])


def build(root: Path) -> dict[str, Path]:
    """Write the stores under ``root`` (slow: one mlflow child process)."""
    share = root / "share"
    seed = root / "seed" / "mlruns"
    specs = [
        # The project stores the naming tests read.
        {
            "kind": "folder",
            "dest": str(root / "named" / "mlruns"),
            "names": NAMES,
            "deleted": DELETED,
        },
        {
            "kind": "sqlite",
            "dest": str(root / "named" / "mlflow.db"),
            "names": NAMES,
            "deleted": DELETED,
            "cwd": str(root / "named" / "sqlite-cwd"),
        },
        # A share: \\server\share\ai\mlflow\<project>\mlruns and a SQLite store.
        {"kind": "folder", "dest": str(seed), "names": ["seed_train_001_a"]},
        {
            "kind": "folder",
            "dest": str(share / "ai" / "mlflow" / "dra" / "mlruns"),
            "names": ["dra_train_001_a", "dra_eval_001_b"],
            "artifact": str(seed),  # an mlruns copied into its artifacts: not a store to add
        },
        {
            "kind": "sqlite",
            "dest": str(share / "ai" / "mlflow" / "emitter" / "tracking.db"),
            "names": ["emitter_train_001_a"],
            # Its artifacts land in a sibling folder walked *before* it: aaa/mlruns/...
            "cwd": str(share / "ai" / "aaa-artifacts"),
            "artifact": str(seed),
        },
        {
            "kind": "folder",
            "dest": str(share / "ai" / "archive" / "old" / "deep" / "legacy" / "mlruns"),
            "names": ["legacy_train_001_a"],
        },
    ]
    spec_file = root / "spec.json"
    spec_file.write_text(json.dumps(specs), encoding="utf-8")
    subprocess.run(
        [sys.executable, __file__, str(spec_file)],
        check=True,
        capture_output=True,
        timeout=600,
        cwd=root,
    )
    _look_alikes(share)
    (share / "ai" / "links").mkdir()
    (share / "ai" / "links" / "up").symlink_to(share / "ai", target_is_directory=True)  # a loop
    return {
        "folder": root / "named" / "mlruns",
        "sqlite": root / "named" / "mlflow.db",
        "share": share,
    }


def _look_alikes(share: Path) -> None:
    """Things that look like stores and are not."""
    recipe = share / "tools" / "conda-recipe" / "1"
    recipe.mkdir(parents=True)
    (recipe / "meta.yaml").write_text("package:\n  name: tool\n  version: 1\n", encoding="utf-8")
    notes = share / "tools" / "notes.db"
    with sqlite3.connect(notes) as conn:
        conn.execute("CREATE TABLE experiments (id INTEGER, name TEXT)")  # no alembic_version
    conn.close()
    (share / "tools" / "broken.sqlite").write_bytes(b"not a database at all")
    empty = share / "tools" / "mlruns"  # named mlruns, but nothing MLflow wrote
    empty.mkdir()
    (empty / "readme.txt").write_text("placeholder", encoding="utf-8")


def stores(base: Path, dest: Path) -> dict[str, Path]:
    """The session's stores, built once under ``base``: copies of the two named stores under
    ``dest`` (tests may serve them), and the share itself, to be read only (its SQLite store
    records absolute artifact paths, which a copy would not match)."""
    built = base / "naming-stores"
    done = built / "done"
    if not done.exists():
        if built.exists():
            shutil.rmtree(built)
        built.mkdir(parents=True)
        build(built)
        done.write_text("ok", encoding="utf-8")
    result = {"share": built / "share"}
    for key, rel in (("folder", "named/mlruns"), ("sqlite", "named/mlflow.db")):
        src = built / rel
        target = dest / key / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target)
        else:
            shutil.copy2(src, target)
        result[key] = target
    return result


if __name__ == "__main__":
    for one in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
        _make(one)
