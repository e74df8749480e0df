"""A folder store with everything a migration must carry, written by the mlflow client.

Run as ``python tests/rich_store.py DEST``: three experiments (one of them deleted), a parent
run with two nested runs, a deleted run, params, tags, metric histories, an artifact and a
registered model with two versions. The ``rich_store`` fixture builds it once per session.
"""

from __future__ import annotations

import os
import sys


def make(dest: str) -> None:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow
    from mlflow import MlflowClient

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


if __name__ == "__main__":
    make(sys.argv[1])
