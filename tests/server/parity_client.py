"""The parity scenario: the mlflow client's tracking, artifact, registry and tracing APIs against
one tracking server, then a script logging straight to the store; prints what it saw as JSON.

Run as ``python parity_client.py SERVER_URL STORE_URI``, once against a launcher server and once
against ``mlflow server``, by tests/server/test_parity.py, which compares the two outputs. Only
stable things are printed (names, values, counts, statuses), never ids or timestamps, so the
outputs of two servers compare equal when the servers behave alike.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

SERVER, STORE = sys.argv[1], sys.argv[2]
results: dict[str, Any] = {}
state: dict[str, Any] = {}
mlflow.set_tracking_uri(SERVER)
client = MlflowClient(SERVER)


def step(name: str, fn: Callable[[], Any]) -> None:
    try:
        results[name] = {"ok": True, "value": fn()}
    except Exception as exc:
        results[name] = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:400]}"}
    finally:
        mlflow.set_tracking_uri(SERVER)


class Echo(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input * 2


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if not k.startswith("mlflow.")}


# -- tracking ------------------------------------------------------------------------------


def create_experiment() -> Any:
    state["exp"] = client.create_experiment("parity_exp", tags={"team": "a"})
    exp = client.get_experiment_by_name("parity_exp")
    return {"name": exp.name, "tags": user_tags(exp.tags), "stage": exp.lifecycle_stage}


def artifact_location() -> Any:
    return client.get_experiment(state["exp"]).artifact_location.split(":", 1)[0]


def log_run() -> Any:
    run = client.create_run(state["exp"], run_name="r1", tags={"k": "v"})
    state["run"] = run.info.run_id
    client.log_param(state["run"], "lr", "0.1")
    for i in range(3):
        client.log_metric(state["run"], "loss", 1.0 / (i + 1), step=i)
    client.log_batch(
        state["run"],
        metrics=[Metric("acc", 0.9, 0, 0)],
        params=[Param("bs", "32")],
        tags=[RunTag("t2", "x")],
    )
    got = client.get_run(state["run"])
    return {
        "params": got.data.params,
        "metrics": got.data.metrics,
        "tags": user_tags(got.data.tags),
        "status": got.info.status,
        "name": got.info.run_name,
    }


def history() -> Any:
    return [(m.step, m.value) for m in client.get_metric_history(state["run"], "loss")]


def search_runs() -> Any:
    runs = client.search_runs([state["exp"]], "metrics.loss < 0.5", order_by=["metrics.acc DESC"])
    return [r.info.run_name for r in runs]


def search_experiments() -> Any:
    return sorted(e.name for e in client.search_experiments(max_results=1000))


def update_run() -> Any:
    client.set_terminated(state["run"])
    client.rename_experiment(state["exp"], "parity_exp_renamed")
    client.delete_run(state["run"])
    client.restore_run(state["run"])
    got = client.get_run(state["run"])
    return [got.info.status, got.info.lifecycle_stage, client.get_experiment(state["exp"]).name]


# -- artifacts -----------------------------------------------------------------------------


def log_artifacts() -> Any:
    client.log_text(state["run"], "hello", "notes/a.txt")
    client.log_dict(state["run"], {"x": 1}, "d.json")
    top = sorted(f.path for f in client.list_artifacts(state["run"]))
    return top + sorted(f.path for f in client.list_artifacts(state["run"], "notes"))


def download_artifact() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(state["run"], "notes/a.txt", tmp)
        with open(path, encoding="utf-8") as fh:
            return fh.read()


# -- models and the registry ---------------------------------------------------------------


def log_model() -> Any:
    with mlflow.start_run(run_id=state["run"]):
        info = mlflow.pyfunc.log_model(name="model", python_model=Echo(), pip_requirements=[])
    state["model"] = info.model_uri
    return (
        mlflow.pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"a": [1, 2]}))["a"].tolist()
    )


def register() -> Any:
    version = mlflow.register_model(state["model"], "parity_model")
    client.set_registered_model_alias("parity_model", "champion", version.version)
    client.update_registered_model("parity_model", description="d")
    return {
        "version": version.version,
        "alias": client.get_model_version_by_alias("parity_model", "champion").version,
        "models": [m.name for m in client.search_registered_models()],
        "description": client.get_registered_model("parity_model").description,
    }


def load_registered() -> Any:
    model = mlflow.pyfunc.load_model("models:/parity_model@champion")
    return model.predict(pd.DataFrame({"a": [3]}))["a"].tolist()


# -- tracing -------------------------------------------------------------------------------


def trace() -> Any:
    mlflow.set_experiment(experiment_id=state["exp"])

    @mlflow.trace(name="inner")
    def inner(x: int) -> int:
        return x * 2

    @mlflow.trace(name="outer")
    def outer(x: int) -> int:
        return inner(x) + 1

    outer(3)
    trace_id = mlflow.get_last_active_trace_id()
    flush = getattr(mlflow, "flush_trace_async_logging", None)
    if flush is not None:
        flush()
    got = client.get_trace(trace_id)
    found = mlflow.search_traces(experiment_ids=[state["exp"]], return_type="list")
    return {
        "spans": sorted(s.name for s in got.data.spans),
        "count": len(found),
        "state": str(got.info.state),
    }


# -- the everyday workflow: created through the server, logged straight to the store -------


def direct_experiment() -> Any:
    state["dexp"] = client.create_experiment("made_through_server")
    return True


def _direct(body: Callable[[], Any]) -> Any:
    mlflow.set_tracking_uri(STORE)
    mlflow.set_experiment("made_through_server")
    run_id = state.get("drun")
    with mlflow.start_run(run_id=run_id) as run:
        state["drun"] = run.info.run_id
        return body()


def direct_data() -> Any:
    return _direct(lambda: (mlflow.log_param("p", "1"), mlflow.log_metric("m", 2.0)) and True)


def direct_artifact() -> Any:
    return _direct(lambda: mlflow.log_text("direct", "direct.txt") or True)


def direct_model() -> Any:
    def body() -> Any:
        info = mlflow.pyfunc.log_model(name="dmodel", python_model=Echo(), pip_requirements=[])
        state["dmodel"] = info.model_id
        return True

    return _direct(body)


def seen_data() -> Any:
    got = client.get_run(state["drun"])
    return {"params": got.data.params, "metrics": got.data.metrics}


def seen_artifacts() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(state["drun"], "direct.txt", tmp)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    return {"files": [f.path for f in client.list_artifacts(state["drun"])], "text": text}


def seen_model() -> Any:
    model = client.get_logged_model(state["dmodel"])
    loaded = mlflow.pyfunc.load_model(f"models:/{state['dmodel']}")
    return {"name": model.name, "predict": loaded.predict(pd.DataFrame({"a": [5]}))["a"].tolist()}


for name, fn in [
    ("tracking.create_experiment", create_experiment),
    ("tracking.artifact_location", artifact_location),
    ("tracking.log_run", log_run),
    ("tracking.history", history),
    ("tracking.search_runs", search_runs),
    ("tracking.search_experiments", search_experiments),
    ("tracking.update_run", update_run),
    ("artifacts.log", log_artifacts),
    ("artifacts.download", download_artifact),
    ("registry.log_model", log_model),
    ("registry.register", register),
    ("registry.load_registered", load_registered),
    ("tracing.trace", trace),
    ("direct.experiment", direct_experiment),
    ("direct.data", direct_data),
    ("direct.artifact", direct_artifact),
    ("direct.model", direct_model),
    ("direct.seen_data", seen_data),
    ("direct.seen_artifacts", seen_artifacts),
    ("direct.seen_model", seen_model),
]:
    step(name, fn)

print("PARITY-JSON " + json.dumps(results, sort_keys=True, default=str))
