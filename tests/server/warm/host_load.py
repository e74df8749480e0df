"""A client that works one project's port for a while: what tests/server/warm/test_host.py
sends to each project of one host at once, in a process of its own (the mlflow client reads
MLFLOW_TRACKING_TOKEN, the project's key, from the environment).

    python host_load.py URL TAG SECONDS read|write

``write``: runs with params and metrics in experiment ``load_TAG``, an artifact uploaded and
read back through the server, a registered model ``model_TAG_N``; ``read``: searches only.
Prints one JSON line: what it sent (run ids, metric sums, artifacts, models) and any error.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request


def main() -> int:
    url, tag, seconds, mode = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    key = os.environ["MLFLOW_TRACKING_TOKEN"]
    sent: dict = {"runs": [], "artifacts": [], "models": [], "reads": 0, "errors": []}
    deadline = time.monotonic() + seconds
    experiment_id = None
    if mode == "write":
        experiment_id = client.create_experiment(f"load_{tag}")
    i = 0
    while time.monotonic() < deadline:
        i += 1
        try:
            names = [e.name for e in client.search_experiments(max_results=1000)]
            sent["reads"] += 1
            if any(n.startswith("load_") and n != f"load_{tag}" for n in names):
                sent["errors"].append(f"saw another project's experiment: {names}")
            if mode != "write":
                continue
            run = client.create_run(experiment_id, run_name=f"{tag}-{i}")
            run_id = run.info.run_id
            client.log_param(run_id, "tag", tag)
            for step in range(3):
                client.log_metric(run_id, "m", float(i * 10 + step), step=step)
            client.set_terminated(run_id)
            sent["runs"].append(run_id)
            path = f"uploads/{tag}/{i}.txt"
            body = f"{tag}:{i}".encode()
            put = urllib.request.Request(
                f"{url}api/2.0/mlflow-artifacts/artifacts/{path}",
                data=body,
                method="PUT",
                headers={"Authorization": f"Bearer {key}"},
            )
            urllib.request.urlopen(put, timeout=30).read()
            get = urllib.request.Request(
                f"{url}api/2.0/mlflow-artifacts/artifacts/{path}",
                headers={"Authorization": f"Bearer {key}"},
            )
            if urllib.request.urlopen(get, timeout=30).read() != body:
                sent["errors"].append(f"artifact {path} came back different")
            sent["artifacts"].append(path)
            if i % 3 == 1:
                name = f"model_{tag}_{i}"
                client.create_registered_model(name)
                sent["models"].append(name)
        except Exception as exc:  # reported, judged by the test
            sent["errors"].append(f"{type(exc).__name__}: {exc}"[:300])
    print(json.dumps(sent), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
