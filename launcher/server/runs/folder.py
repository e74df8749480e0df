"""A folder store's runs, read by modification times: a poll reads only what changed.

On an SMB share every read is a round trip, so a poll lists the store's root (one listing gives
every experiment folder's mtime), lists again only an experiment folder whose mtime moved (a run
was created in it), and for each run it knows to be active looks at its ``meta.yaml`` (MLflow
rewrites it in place when the run ends, which moves the file's mtime but not the folder's) and
lists its ``metrics`` folder, reading the tail of a metric file only when that file changed.
A run that ended is not looked at again. Strictly read-only: files are opened for reading.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from launcher.model.runs.events import ENDED, FOLDER_STATUS, Metric, RunInfo

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
TAIL_BYTES = 512
"""A metric file's last line is in its last few hundred bytes (``timestamp value step``)."""


@dataclass
class _Run:
    info: RunInfo
    meta_mtime: int
    metric_mtimes: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)


@dataclass
class _Experiment:
    name: str
    mtime: int
    runs: dict[str, _Run] = field(default_factory=dict)
    """Run folder name -> what was read of it (folders that are no runs map to nothing)."""
    skipped: set[str] = field(default_factory=set)


class FolderRuns:
    """One folder store's runs, kept between polls so that a poll reads only what moved."""

    def __init__(self, root: str | Path, project: str, prefix: str = "") -> None:
        self.root = Path(root)
        self.project = project
        self.prefix = prefix
        self._experiments: dict[str, _Experiment] = {}
        self.files_read = 0
        """Files opened and folders listed, all polls together (the bench reports it)."""

    def poll(self, since_ms: int) -> list[RunInfo]:
        """Every active run, and every run that ended at or after ``since_ms``.

        Raises OSError when the store's root cannot be listed (a share gone).
        """
        listing = self._scan(self.root)
        found = {e.name: e for e in listing if e.name.isdigit() and e.is_dir()}
        for gone in set(self._experiments) - set(found):
            del self._experiments[gone]
        result: list[RunInfo] = []
        for exp_id, entry in found.items():
            exp = self._experiments.get(exp_id)
            if exp is None:
                name = self._experiment_name(Path(entry.path), exp_id)
                if name is None:
                    continue  # not an experiment (yet): looked at again next time
                exp = self._experiments[exp_id] = _Experiment(name, -1)
            if not exp.name.startswith(self.prefix):
                continue  # another project's: not even its mtime is asked for
            mtime = entry.stat().st_mtime_ns  # free on Windows (in the listing), a stat here
            if exp.mtime != mtime and self._new_runs(Path(entry.path), exp_id, exp, since_ms):
                exp.mtime = mtime  # else listed again next time: a run was half written
            for folder, run in exp.runs.items():
                if run.info.status not in ENDED:
                    self._refresh(Path(entry.path) / folder, run)
                if run.info.status not in ENDED or (run.info.end_time or 0) >= since_ms:
                    result.append(run.info)
        return result

    # -- reading ---------------------------------------------------------------------------------

    def _scan(self, folder: Path) -> list[os.DirEntry[str]]:
        self.files_read += 1
        with os.scandir(folder) as it:
            return list(it)

    def _read_meta(self, path: Path) -> dict[str, Any] | None:
        self.files_read += 1
        try:
            data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=_Loader)
        except (OSError, yaml.YAMLError):
            return None
        return data if isinstance(data, dict) else None

    def _experiment_name(self, folder: Path, exp_id: str) -> str | None:
        data = self._read_meta(folder / "meta.yaml")
        if data is None or str(data.get("experiment_id", "")) != exp_id:
            return None
        if data.get("lifecycle_stage") != "active" or not isinstance(data.get("name"), str):
            return None
        return str(data["name"])

    def _new_runs(self, folder: Path, exp_id: str, exp: _Experiment, since_ms: int) -> bool:
        """Read the runs not seen yet; False when one could not be read whole (MLflow makes a
        run's folder before its meta.yaml): the experiment is listed again at the next poll."""
        try:
            entries = self._scan(folder)
        except OSError:
            return False
        complete = True
        for entry in entries:
            if entry.name in exp.runs or entry.name in exp.skipped or not entry.is_dir():
                continue
            if entry.name in ("tags", "datasets", "traces", "models", "meta.yaml"):
                continue
            run = self._read_run(Path(entry.path), exp_id, exp.name, since_ms)
            if run is not None:
                exp.runs[entry.name] = run
            elif self._deleted(Path(entry.path)):
                exp.skipped.add(entry.name)
            else:
                complete = False
        return complete

    def _deleted(self, folder: Path) -> bool:
        """A deleted run (kept until purged), or a folder that holds no run at all."""
        meta = folder / "meta.yaml"
        if not meta.exists():
            return not _RUN_ID.match(folder.name)  # a run's folder is made before its meta.yaml
        data = self._read_meta(meta)
        return data is not None and data.get("lifecycle_stage") == "deleted"

    def _read_run(self, folder: Path, exp_id: str, exp_name: str, since_ms: int = 0) -> _Run | None:
        """A run's meta.yaml, and its metrics when it is active or ended at/after ``since_ms``
        (an old run's metrics are never shown: not reading them keeps a first poll short)."""
        meta = folder / "meta.yaml"
        try:
            mtime = meta.stat().st_mtime_ns
        except OSError:
            return None
        data = self._read_meta(meta)
        if data is None or data.get("lifecycle_stage") != "active" or "run_id" not in data:
            return None
        info = RunInfo(
            project=self.project,
            experiment_id=exp_id,
            experiment=exp_name,
            run_id=str(data["run_id"]),
            name=str(data.get("run_name") or ""),
            status=FOLDER_STATUS.get(int(data.get("status", 0) or 0), "UNKNOWN"),
            start_time=int(data.get("start_time") or 0),
            end_time=int(data["end_time"]) if data.get("end_time") else None,
        )
        run = _Run(info, mtime)
        if info.status not in ENDED or (info.end_time or 0) >= since_ms:
            self._read_metrics(folder, run)
        return run

    def _refresh(self, folder: Path, run: _Run) -> None:
        """An active run: its meta.yaml again if it changed (it ended), its metrics if they did."""
        try:
            mtime = (folder / "meta.yaml").stat().st_mtime_ns
        except OSError:
            return
        if mtime != run.meta_mtime:
            fresh = self._read_run(folder, run.info.experiment_id, run.info.experiment)
            if fresh is not None:
                run.info, run.meta_mtime = fresh.info, fresh.meta_mtime
                run.metric_mtimes, run.metrics = fresh.metric_mtimes, fresh.metrics
            return
        self._read_metrics(folder, run)

    def _read_metrics(self, folder: Path, run: _Run) -> None:
        try:
            entries = self._scan(folder / "metrics")
        except OSError:
            return
        changed = False
        for entry in entries:
            if not entry.is_file():
                continue  # metric keys with "/" are folders; their files are read when changed
            mtime = entry.stat().st_mtime_ns
            if run.metric_mtimes.get(entry.name) == mtime:
                continue
            metric = self._last_line(Path(entry.path), entry.name)
            if metric is not None:
                run.metrics[entry.name] = metric
                run.metric_mtimes[entry.name] = mtime
                changed = True
        if changed:
            latest = sorted(run.metrics.values(), key=lambda m: (-m.timestamp, m.key))
            run.info = replace(run.info, metrics=tuple(latest))

    def _last_line(self, path: Path, key: str) -> Metric | None:
        self.files_read += 1
        try:
            with path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - TAIL_BYTES))
                lines = handle.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return None
        try:
            parts = lines[-1].split()
            step = int(parts[2]) if len(parts) > 2 else 0
            return Metric(key, float(parts[1]), step, int(parts[0]))
        except (IndexError, ValueError):
            return None
