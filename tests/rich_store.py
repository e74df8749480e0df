"""A folder store with everything a migration must carry, written by the mlflow client.

Run as ``python tests/rich_store.py DEST`` (a folder, or a ``sqlite:///`` URI for a SQLite
store written the same way): three experiments (one of them deleted, one tagged),
a parent run with two nested runs, a deleted run, params, tags, metric histories, a dataset
input, an artifact, a logged model (params, tags, a metric, READY), a trace with two spans and an
assessment, and a registered model (tagged) with two versions, a version tag and an alias: every
record kind MLflow 3 keeps and ``mlflow.store.fs2db`` moves. The ``rich_store`` fixture builds it
once per session.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def make(dest: str) -> None:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow
    from mlflow import MlflowClient

    if "://" in dest:  # a SQL store (``sqlite:///...``): artifacts go under the working dir
        uri = dest
    else:
        uri = "file:///" + os.path.abspath(dest).lstrip("/").replace("\\", "/")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    mlflow.set_experiment("alpha")
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_params({"lr": 0.01, "layers": 3})
        mlflow.set_tag("team", "vision")
        for step in range(6):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_text("hello", "notes/readme.txt")
        for i in range(2):
            with mlflow.start_run(run_name=f"child-{i}", nested=True):
                mlflow.log_param("fold", i)
                mlflow.log_metric("acc", 0.5 + i / 10)
                mlflow.log_metric("acc", 0.6 + i / 10, step=1)
    with mlflow.start_run(run_name="discarded") as discarded:
        mlflow.log_param("x", "y")
    client.delete_run(discarded.info.run_id)
    mlflow.set_experiment("beta")
    for i in range(3):
        with mlflow.start_run(run_name=f"b{i}"):
            mlflow.log_param("i", i)
            mlflow.log_metric("score", float(i), step=i)
            mlflow.log_metric("nan-metric", float("nan"))
    gone = mlflow.set_experiment("gone")
    with mlflow.start_run(run_name="in-gone"):
        mlflow.log_metric("m", 1.0)
    client.delete_experiment(gone.experiment_id)
    client.create_registered_model("classifier", tags={"owner": "me"})
    for _ in range(2):
        client.create_model_version(
            "classifier", f"{parent.info.artifact_uri}/notes", run_id=parent.info.run_id
        )
    client.set_model_version_tag("classifier", "1", "validated", "yes")
    client.set_registered_model_alias("classifier", "champion", "2")
    _later_kinds(mlflow, client, parent.info.run_id)


def _later_kinds(mlflow: Any, client: Any, parent_run: str) -> None:
    """MLflow 3's newer records: experiment tags, datasets, logged models, traces."""
    import numpy as np
    from mlflow.entities import LoggedModelStatus

    experiment = client.get_experiment_by_name("alpha").experiment_id
    client.set_experiment_tag(experiment, "project", "rich")
    dataset = mlflow.data.from_numpy(np.arange(6).reshape(3, 2), name="tiny", source="memory")
    from mlflow.entities import DatasetInput, InputTag

    client.log_inputs(
        parent_run,
        [DatasetInput(dataset._to_mlflow_entity(), [InputTag("mlflow.data.context", "train")])],
    )
    model = client.create_logged_model(
        experiment, name="net", source_run_id=parent_run, params={"depth": "2"},
        tags={"kind": "toy"},
    )  # fmt: skip
    client.log_metric(parent_run, "val_acc", 0.9, model_id=model.model_id)
    client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    mlflow.set_experiment("alpha")
    with mlflow.start_span("predict") as span:
        span.set_inputs({"x": 1})
        with mlflow.start_span("inner") as inner:
            inner.set_outputs({"y": 2})
        span.set_outputs({"y": 2})
    mlflow.flush_trace_async_logging()  # the trace must exist before its assessment
    mlflow.log_feedback(trace_id=span.trace_id, name="correct", value=True)


if __name__ == "__main__":
    make(sys.argv[1])
