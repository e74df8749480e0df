"""A big folder store, served three ways side by side: as a folder, migrated to SQLite, and as
a fast view (its read-only local copy).

Builds a folder store with the mlflow client (one experiment, 1,000 runs by default, each with
5 params, 5 metrics of 10 steps and 3 tags, written with ``log_batch``), times the move
(``mlflow-launcher move``: MLflow's converter plus the launcher's check) and a fast-view
fast view, then starts the three servers and times, alternately so machine noise hits all
alike, the two requests the UI sends first: the runs page (``runs/search``, 100 runs, newest
first) and the experiment list (``experiments/search``). Prints medians and the ratios
database/folder and fast view/folder (goal: <= 0.1).

    python bench/big_store.py [--runs 1000] [--repeat 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from launcher.model.paths import AppPaths  # noqa: E402
from launcher.model.project import Project  # noqa: E402
from launcher.server.process import MlflowServer  # noqa: E402
from launcher.server.stores import fast_view  # noqa: E402
from launcher.server.stores.move import to_sqlite  # noqa: E402


def build_store(root: Path, runs: int) -> str:
    """The folder store; returns the experiment id."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(root.as_uri())
    experiment = client.create_experiment("big")
    now = int(time.time() * 1000)
    for i in range(runs):
        run = client.create_run(experiment, start_time=now + i, run_name=f"run-{i:05d}")
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[
                Metric(f"m{k}", (i + k + step) / 100, now + step, step)
                for k in range(5)
                for step in range(10)
            ],
            params=[Param(f"p{k}", str(i * k)) for k in range(5)],
            tags=[RunTag(f"t{k}", f"tag-{i % (k + 2)}") for k in range(3)],
        )
        client.set_terminated(run_id, end_time=now + i + 1)
        if (i + 1) % 250 == 0:
            print(f"  {i + 1} runs written", file=sys.stderr, flush=True)
    return experiment


def post(url: str, body: dict, key: str | None) -> float:
    """Seconds until the whole answer is read and parsed (``key``: the server's access key)."""
    bearer = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(
        url,
        json.dumps(body).encode(),
        {"Content-Type": "application/json", **bearer},
        method="POST",
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        data = json.loads(response.read())
    elapsed = time.perf_counter() - started
    if "experiment_ids" in body:
        assert len(data.get("runs", [])) == 100, "the runs page must hold 100 runs"
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs in the experiment")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per server")
    parser.add_argument("--keep", help="build the store here and keep it (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="big-store-"))
    paths = AppPaths(work / "config", work / "data", work / "logs")
    store = work / "mlruns"
    print(f"Building a folder store with {args.runs} runs in {store}...", file=sys.stderr)
    started = time.perf_counter()
    experiment = build_store(store, args.runs)
    print(f"  written in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    folder = Project(name="folder", store=str(store))
    started = time.perf_counter()
    result = to_sqlite.move(to_sqlite.plan(folder, paths, str(work / "big.db")), paths)
    migrate_seconds = time.perf_counter() - started
    assert result.ok, result.report()
    started = time.perf_counter()
    view = Project(name="view", store=str(store), fast_view=True)
    fast_view.refresh(view, paths)
    fast_view_seconds = time.perf_counter() - started

    servers = {
        "folder store": MlflowServer(folder, paths),
        "migrated SQLite": MlflowServer(Project(name="db", store=str(work / "big.db")), paths),
        "fast view": MlflowServer(view, paths),
    }
    urls = {}
    try:
        for label, server in servers.items():
            print(f"Starting the server on the {label}...", file=sys.stderr)
            urls[label] = server.start()
        runs_body = {
            "experiment_ids": [experiment],
            "filter": "",
            "run_view_type": "ACTIVE_ONLY",
            "max_results": 100,
            "order_by": ["attributes.start_time DESC"],
        }
        list_body = {"max_results": 1000}
        times: dict[str, dict[str, list[float]]] = {
            label: {"runs": [], "experiments": []} for label in servers
        }
        keys = {label: server.access_key for label, server in servers.items()}
        for label, url in urls.items():  # one warm-up each: the OS's file cache, imports
            post(url + "ajax-api/2.0/mlflow/runs/search", runs_body, keys[label])
        for _ in range(args.repeat):
            for label, url in urls.items():
                times[label]["runs"].append(
                    post(url + "ajax-api/2.0/mlflow/runs/search", runs_body, keys[label])
                )
                times[label]["experiments"].append(
                    post(url + "ajax-api/2.0/mlflow/experiments/search", list_body, keys[label])
                )
    finally:
        for server in servers.values():
            server.stop()

    median = {label: {k: statistics.median(v) for k, v in t.items()} for label, t in times.items()}
    base = median["folder store"]
    print()
    print(
        f"{args.runs} runs x (5 params, 5 metrics x 10 steps, 3 tags); "
        f"median of {args.repeat} requests each, after one warm-up"
    )
    print(f"{'served from':<18} {'runs page':>10} {'ratio':>6} {'exp. list':>10} {'ratio':>6}")
    for label, m in median.items():
        print(
            f"{label:<18} {m['runs']:>9.3f}s {m['runs'] / base['runs']:>6.3f} "
            f"{m['experiments']:>9.3f}s {m['experiments'] / base['experiments']:>6.3f}"
        )
    print(
        f"move to SQLite (MLflow's converter + the launcher's check): {migrate_seconds:.1f} s; "
        f"fast view built: {fast_view_seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
