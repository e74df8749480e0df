"""What a folder store costs its users: how long a listing of its biggest experiment takes, and
which MLflow features folder stores lack. Doctor and the project editor say it, and offer the
move to SQLite (or, for a share others log to, the fast view).

A folder store answers a runs page by reading every run of the experiment: one file per run,
param, tag and metric (``FileStore._search_runs`` pages in Python). This module times exactly
that reading, on a sample of runs when the experiment is big, so the estimate costs a bounded
number of reads even over a slow share.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RUNS = 100
LACKING = (
    "the experiment Overview tab, the AI Gateway, evaluation datasets, judges and scorers, "
    "webhooks, workspaces, jobs and trace metrics"
)
"""What MLflow 3 does not offer on folder stores (read from MLflow 3.17's source)."""


@dataclass(frozen=True)
class Listing:
    experiment: str
    name: str
    runs: int
    seconds: float
    """Estimated time to read every run of the experiment, as a runs page does."""
    sampled: int


def biggest_experiment(root: Path) -> tuple[str, str, list[Path]] | None:
    """(id, name, run folders) of the experiment with the most runs; None for an empty store."""
    best: tuple[str, str, list[Path]] | None = None
    with contextlib.suppress(OSError):
        for exp in root.iterdir():
            if not exp.is_dir() or not exp.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                runs = [r for r in exp.iterdir() if (r / "meta.yaml").is_file()]
                if best is None or len(runs) > len(best[2]):
                    best = (exp.name, _name(exp), runs)
    return best


def _name(exp: Path) -> str:
    with contextlib.suppress(OSError):
        for line in (exp / "meta.yaml").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("name:"):
                return line.split(":", 1)[1].strip().strip("'\"")
    return exp.name


def time_listing(root: Path, sample: int = SAMPLE_RUNS) -> Listing | None:
    """Time reading (a sample of) the biggest experiment's runs, file by file."""
    found = biggest_experiment(root)
    if found is None or not found[2]:
        return None
    exp_id, name, runs = found
    chosen = runs[:sample]
    started = time.perf_counter()
    for run in chosen:
        for dirpath, dirs, files in os.walk(run):
            dirs[:] = [d for d in dirs if not (dirpath == str(run) and d == "artifacts")]
            for file in files:
                with contextlib.suppress(OSError), open(os.path.join(dirpath, file), "rb") as fh:
                    fh.read()
    elapsed = time.perf_counter() - started
    return Listing(exp_id, name, len(runs), elapsed * len(runs) / len(chosen), len(chosen))


def describe(listing: Listing | None, project_name: str) -> str:
    """One paragraph: the cost, what is missing, and the way out."""
    parts = []
    if listing is not None:
        how = (
            f"estimated from {listing.sampled} of its runs"
            if listing.sampled < listing.runs
            else "measured"
        )
        parts.append(
            f"listing its biggest experiment ({listing.name!r}, {listing.runs:,} runs) reads "
            f"every run's files: about {listing.seconds:.1f} s per page here ({how}); a database "
            "answers in a fraction of that."
        )
    parts.append(f"Folder stores lack {LACKING}.")
    parts.append(
        f"Move it to SQLite: mlflow-launcher move {project_name!r} --switch (verified; the "
        f"folder is not changed), or, for a share others still log to, a read-only fast view: "
        f"mlflow-launcher edit {project_name!r} --fast-view."
    )
    return " ".join(parts)
