"""A remote tracking server's runs, asked over its REST API with the project's login.

A poll is one ``runs/search`` for the active runs and one for those that ended since the last
look (MLflow's filter language has no OR); the experiment list they need is read again every
:data:`EXPERIMENTS_EVERY` polls, so a new experiment is watched within minutes.
"""

from __future__ import annotations

from typing import Any

from launcher.model.runs.events import Metric, RunInfo
from launcher.server import rest

EXPERIMENTS_EVERY = 10
TIMEOUT = 10.0
PAGE = 1000


class RemoteRuns:
    def __init__(self, base_url: str, project: str, prefix: str = "", workspace: str = "") -> None:
        self.base_url = base_url
        self.workspace = workspace
        self.project = project
        self.prefix = prefix
        self.requests = 0
        self._experiments: dict[str, str] = {}
        self._polls = 0

    def poll(self, since_ms: int) -> list[RunInfo]:
        """Every active run, and every run that ended at or after ``since_ms``.

        Raises OSError (or ValueError for an answer that is no JSON) when the server fails.
        """
        if self._polls % EXPERIMENTS_EVERY == 0 or not self._experiments:
            self.requests += 1
            self._experiments = {
                str(e["experiment_id"]): str(e.get("name", ""))
                for e in rest.search_experiments(
                    self.base_url, timeout=TIMEOUT, workspace=self.workspace
                )
                if isinstance(e, dict) and str(e.get("name", "")).startswith(self.prefix)
            }
        self._polls += 1
        if not self._experiments:
            return []
        found: dict[str, RunInfo] = {}
        for query in ("attributes.status = 'RUNNING'", f"attributes.end_time >= {int(since_ms)}"):
            for raw in self._search(query):
                run = self._run(raw)
                if run is not None:
                    found[run.run_id] = run
        return list(found.values())

    def _search(self, query: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = []
        token = ""
        while True:
            body: dict[str, Any] = {
                "experiment_ids": sorted(self._experiments),
                "filter": query,
                "max_results": PAGE,
                "run_view_type": "ACTIVE_ONLY",
            }
            if token:
                body["page_token"] = token
            self.requests += 1
            path = "/ajax-api/2.0/mlflow/runs/search"
            data = rest.post_api(self.base_url, path, body, TIMEOUT, self.workspace)
            runs.extend(r for r in data.get("runs", []) if isinstance(r, dict))
            token = data.get("next_page_token", "")
            if not token:
                return runs

    def _run(self, raw: dict[str, Any]) -> RunInfo | None:
        info = raw.get("info", {})
        exp_id = str(info.get("experiment_id", ""))
        if exp_id not in self._experiments or "run_id" not in info:
            return None
        metrics = [
            Metric(
                str(m["key"]), float(m["value"]), int(m.get("step", 0)), int(m.get("timestamp", 0))
            )
            for m in raw.get("data", {}).get("metrics", [])
            if isinstance(m, dict) and "key" in m and "value" in m
        ]
        return RunInfo(
            project=self.project,
            experiment_id=exp_id,
            experiment=self._experiments[exp_id],
            run_id=str(info["run_id"]),
            name=str(info.get("run_name", "")),
            status=str(info.get("status", "")),
            start_time=int(info.get("start_time", 0) or 0),
            end_time=int(info["end_time"]) if info.get("end_time") else None,
            metrics=tuple(sorted(metrics, key=lambda m: (-m.timestamp, m.key))),
        )
