"""A training-like script through the mlflow client, for the run-watch tests.

It makes its experiment, says "ready" and waits for a line on stdin; then one run finishes with
metrics, one raises inside ``start_run`` (FAILED), and a third logs a metric, says "hanging" and
sleeps until the test kills it with SIGKILL (left RUNNING, as a crashed trainer leaves it).
"""

import sys
import time

import mlflow

mlflow.set_experiment("dra_train_001_watch")
print("ready", flush=True)
sys.stdin.readline()
with mlflow.start_run(run_name="good"):
    for step in range(3):
        mlflow.log_metrics({"loss": 1.0 / (step + 1), "acc": 0.5 + step / 10}, step=step)
try:
    with mlflow.start_run(run_name="boom"):
        mlflow.log_metric("loss", 9.0)
        raise RuntimeError("diverged")
except RuntimeError:
    pass
with mlflow.start_run(run_name="hang"):
    mlflow.log_metric("loss", 0.7, step=4)
    print("hanging", flush=True)
    time.sleep(600)
