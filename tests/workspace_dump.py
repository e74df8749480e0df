"""What a tracking URI gives back through the mlflow client, as JSON keyed by names (not ids):
run as ``python tests/workspace_dump.py URI [WORKSPACE]`` in a child, so a gathered workspace
and the store it came from can be compared record by record."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any


def _value(x: float) -> Any:
    return "nan" if isinstance(x, float) and math.isnan(x) else x


def dump(uri: str, workspace: str | None) -> dict[str, Any]:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    mlflow.set_tracking_uri(uri)  # MLflow 3 would otherwise open ./mlflow.db for some calls
    mlflow.set_registry_uri(uri)
    if workspace:
        mlflow.set_workspace(workspace)
    client = MlflowClient(uri, uri)
    out: dict[str, Any] = {"experiments": {}, "registered_models": {}}
    for exp in client.search_experiments(view_type=ViewType.ALL):
        if exp.name == "Default":
            continue
        runs = {}
        for run in client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL):
            data = run.data
            histories = {
                key: [(m.step, _value(m.value), m.timestamp)
                      for m in client.get_metric_history(run.info.run_id, key)]
                for key in data.metrics
            }  # fmt: skip
            artifacts = []
            pending = [""]
            while pending:
                path = pending.pop()
                for item in client.list_artifacts(run.info.run_id, path or None):
                    (pending.append(item.path) if item.is_dir else artifacts.append(item.path))
            runs[run.info.run_name] = {
                "status": run.info.status,
                "lifecycle": run.info.lifecycle_stage,
                "params": data.params,
                "tags": {k: v for k, v in data.tags.items() if k != "mlflow.parentRunId"},
                "metrics": histories,
                "artifacts": sorted(artifacts),
                "inputs": sorted(
                    d.dataset.name + "/" + d.dataset.digest for d in run.inputs.dataset_inputs
                ),
            }
        models = {
            m.name: {"params": m.params, "tags": m.tags, "status": str(m.status)}
            for m in client.search_logged_models([exp.experiment_id])
        }
        traces = sorted(
            (t.info.trace_id, sorted(s.name for s in t.data.spans),
             len(t.info.assessments or []))
            for t in client.search_traces(locations=[exp.experiment_id])
        )  # fmt: skip
        out["experiments"][exp.name] = {
            "lifecycle": exp.lifecycle_stage,
            "tags": exp.tags,
            "runs": runs,
            "logged_models": models,
            "traces": traces,
        }
    for model in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{model.name}'")
        out["registered_models"][model.name] = {
            "tags": model.tags,
            "aliases": {k: str(v) for k, v in model.aliases.items()},
            "versions": sorted((v.version, v.tags.get("validated", ""), v.run_id)
                               for v in versions),
        }  # fmt: skip
    return out


if __name__ == "__main__":
    print(json.dumps(dump(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None),
                     sort_keys=True, default=str))  # fmt: skip
