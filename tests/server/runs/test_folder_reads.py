"""A folder store's poll reads only what changed: the mtimes of folders and active runs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from launcher.model.runs.events import FINISHED, RUNNING
from launcher.server.runs.folder import FolderRuns
from tests.server.helpers import tree_hash

T0 = int(time.time() * 1000) - 60_000


def write_run(exp: Path, run_id: str, status: int, *, end: int | None = None) -> Path:
    run = exp / run_id
    (run / "metrics").mkdir(parents=True)
    end_line = f"end_time: {end}\n" if end else "end_time: null\n"
    (run / "meta.yaml").write_text(
        f"run_id: {run_id}\nrun_name: r-{run_id}\nexperiment_id: '{exp.name}'\nstatus: {status}\n"
        f"start_time: {T0}\n{end_line}lifecycle_stage: active\n"
    )
    (run / "metrics" / "loss").write_text(f"{T0} 0.5 0\n{T0 + 1000} 0.25 1\n")
    return run


def make_store(root: Path, experiments: int = 3, runs: int = 5) -> None:
    for e in range(1, experiments + 1):
        exp = root / str(e)
        exp.mkdir(parents=True)
        (exp / "meta.yaml").write_text(
            f"experiment_id: '{e}'\nname: dra_train_{e:03d}\nlifecycle_stage: active\n"
        )
        for r in range(runs):
            write_run(exp, f"{e}run{r}", 3, end=T0 + 5000)


def test_second_poll_reads_only_the_root_and_active_runs(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    make_store(root)
    live = write_run(root / "2", "live", 1)
    before = tree_hash(root)
    reader = FolderRuns(root, "dra", "dra_")
    runs = reader.poll(T0 + 10_000)
    assert [(r.run_id, r.status) for r in runs] == [("live", RUNNING)]
    assert runs[0].last_metric is not None and runs[0].last_metric.value == 0.25
    first = reader.files_read
    assert first > 15  # every run's meta.yaml, once

    reader.files_read = 0
    reader.poll(T0 + 10_000)
    assert reader.files_read == 2  # the root's listing, the live run's metrics folder

    with (live / "metrics" / "loss").open("a") as f:
        f.write(f"{T0 + 2000} 0.125 2\n")
    os.utime(live / "metrics" / "loss", ns=(time.time_ns(), time.time_ns() + 10**9))
    reader.files_read = 0
    (run,) = reader.poll(T0 + 10_000)
    assert reader.files_read == 3 and run.last_metric is not None
    assert (run.last_metric.value, run.last_metric.step) == (0.125, 2)

    meta = live / "meta.yaml"
    meta.write_text(meta.read_text().replace("status: 1", "status: 3").replace(
        "end_time: null", f"end_time: {T0 + 20_000}"))  # fmt: skip
    os.utime(meta, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    (ended,) = reader.poll(T0 + 10_000)
    assert ended.status == FINISHED
    reader.files_read = 0
    reader.poll(T0 + 10_000)
    assert reader.files_read == 1  # nothing active: the root's listing only
    assert tree_hash(root) != before  # (the test itself wrote)


def test_other_prefixes_are_not_read(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    make_store(root)
    reader = FolderRuns(root, "cv", "cv_")
    assert reader.poll(0) == []
    assert reader.files_read == 4  # the root and three experiments' meta.yaml


def test_a_run_caught_half_written_is_read_at_the_next_poll(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    make_store(root, experiments=1, runs=1)
    reader = FolderRuns(root, "dra", "dra_")
    reader.poll(0)
    run_id = "ab" * 16
    (root / "1" / run_id).mkdir()  # MLflow makes the folder, then writes meta.yaml
    assert all(r.run_id != run_id for r in reader.poll(0))
    write_run(root / "1", run_id, 1)  # inside the folder: the experiment's mtime stays
    assert any(r.run_id == run_id for r in reader.poll(0))
