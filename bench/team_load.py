"""Load held: several client processes logging at once through a team server and into a folder.

Starts `mlflow-launcher team-server` (MLflow's own server, basic-auth app, N workers, HTTPS with
its self-signed certificate, which the clients trust by MLFLOW_TRACKING_SERVER_CERT_PATH) on a
scratch PostgreSQL database, then on a SQLite file on this PC's disk, and for each runs
CLIENTS client processes that log at once through it
(each: PARAMS params, KEYS x STEPS metric points one call each, one small artifact), then the
same clients straight into a folder store. Afterwards every param and metric point is counted in
each store (SQL for the database, the run folders for the folder store): nothing may be lost and
no client may fail. Prints the throughput (points/s, from the common start signal to the last
client's end) of each and the ratio team server / folder.

    python bench/team_load.py [--clients 8] [--params 10] [--keys 4] [--steps 25]
        [--workers 4] [--postgres postgresql://USER:PASSWORD@127.0.0.1:5432/postgres]
        [--stores postgres,sqlite]

--postgres (default: $LAUNCHER_TEST_POSTGRES) is a superuser URL; a scratch database is made and
dropped (without it, only the SQLite team server runs). Everything binds to 127.0.0.1 and
stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from launcher.model import tls_pin
from launcher.model.paths import app_paths
from launcher.server.ports import free_port

REPO = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "bench-admin-" + uuid.uuid4().hex[:12]
CLIENT = r"""
import json, os, sys, time
from pathlib import Path
import mlflow
uri, go, index, params, keys, steps = sys.argv[1:7]
index, params, keys, steps = int(index), int(params), int(keys), int(steps)
mlflow.set_tracking_uri(uri)
print("ready", flush=True)
deadline = time.monotonic() + 600
while not Path(go).exists() and time.monotonic() < deadline:
    time.sleep(0.01)
start = time.perf_counter()
mlflow.set_experiment("load")
with mlflow.start_run(run_name=f"client-{index}"):
    for p in range(params):
        mlflow.log_param(f"p{p}", p * index)
    for step in range(steps):
        for k in range(keys):
            mlflow.log_metric(f"m{k}", step * 0.5 + k, step=step)
    mlflow.log_text(f"client {index}", "note.txt")
print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
"""


def admin_sql(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def launcher(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "launcher", *args]
    return subprocess.Popen(argv, cwd=REPO, env=env, **kwargs)  # type: ignore[call-overload,no-any-return]


def healthy(port: int, cert: Path) -> bool:
    """/health over HTTPS, trusting the server's own certificate only."""
    import urllib.request

    if not cert.is_file():
        return False
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    try:
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}/health", context=context, timeout=2
        ) as response:
            return bool(response.read().strip() == b"OK")
    except OSError:
        return False


def start_team_server(
    db_url: str, home: Path, workers: int, cache: int
) -> tuple[subprocess.Popen[bytes], int, Path]:
    env = dict(
        os.environ,
        MLFLOW_LAUNCHER_HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    # MLflow's tables first: the team server serves an existing store, it does not create one.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import mlflow, sys; mlflow.set_tracking_uri(sys.argv[1]); mlflow.search_experiments()",
            db_url,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    share = home / "share"
    launcher(
        ["add", "TEAM", db_url, "--artifacts", str(share)], env, stdout=subprocess.DEVNULL
    ).wait(120)
    port = free_port()
    proc = launcher(
        [
            "team-server",
            "TEAM",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--auth-cache-seconds",
            str(cache),
            "--password-stdin",
            "--timeout",
            "300",
        ],
        env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdin is not None
    proc.stdin.write((ADMIN_PASSWORD + "\n").encode())
    proc.stdin.flush()
    cert = tls_pin.pin_path(app_paths({"MLFLOW_LAUNCHER_HOME": str(home)}), "127.0.0.1", port)
    deadline = time.monotonic() + 300
    while not healthy(port, cert):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the team server did not start (log under {home / 'logs'})")
        time.sleep(0.5)
    return proc, port, cert


def stop(proc: subprocess.Popen[bytes]) -> None:
    procs = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=30)
    for p in alive:
        p.kill()


def run_clients(uri: str, env: dict[str, str], args: argparse.Namespace, work: Path) -> dict:
    """CLIENTS processes, started together once all have imported MLflow; their wall time."""
    # The experiment exists before the clients start, as a team's does: MLflow's create is no
    # transaction across processes (a folder store can end up with two experiments "load").
    subprocess.run(
        [sys.executable, "-c", "import mlflow, sys; mlflow.set_tracking_uri(sys.argv[1]);"
         " mlflow.create_experiment('load')", uri],
        env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    go = work / f"go-{uuid.uuid4().hex}"
    procs = []
    for i in range(args.clients):
        cmd = [
            sys.executable,
            "-c",
            CLIENT,
            uri,
            str(go),
            str(i),
            str(args.params),
            str(args.keys),
            str(args.steps),
        ]
        procs.append(
            subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit(
                "a client failed to start: " + (proc.stderr.read() if proc.stderr else "")
            )
    go.touch()
    start = time.perf_counter()
    errors = []
    for proc in procs:
        _out, err = proc.communicate(timeout=900)
        if proc.returncode != 0 or "Traceback" in err or "Retry" in err:
            errors.append(err.strip().splitlines()[-1:] or [f"exit {proc.returncode}"])
    return {"seconds": time.perf_counter() - start, "errors": errors}


def count_database(url: str) -> dict[str, int]:
    import psycopg

    run_ids = (
        "SELECT r.run_uuid FROM runs r JOIN experiments e USING (experiment_id)"
        " WHERE e.name = 'load'"
    )
    if url.startswith("sqlite:///"):
        lite = sqlite3.connect(url[len("sqlite:///") :])
        try:
            found = [
                lite.execute(f"SELECT count(*) FROM ({run_ids}) x").fetchone(),
                lite.execute(
                    f"SELECT count(*) FROM params WHERE run_uuid IN ({run_ids})"
                ).fetchone(),
                lite.execute(
                    f"SELECT count(*) FROM metrics WHERE run_uuid IN ({run_ids})"
                ).fetchone(),
            ]
        finally:
            lite.close()
        return dict(
            zip(("runs", "params", "metrics"), (f[0] if f else 0 for f in found), strict=True)
        )
    with psycopg.connect(url) as conn:
        runs = conn.execute(f"SELECT count(*) FROM ({run_ids}) x").fetchone()
        params = conn.execute(
            f"SELECT count(*) FROM params WHERE run_uuid IN ({run_ids})"
        ).fetchone()
        metrics = conn.execute(
            f"SELECT count(*) FROM metrics WHERE run_uuid IN ({run_ids})"
        ).fetchone()
    return {
        "runs": runs[0] if runs else 0,
        "params": params[0] if params else 0,
        "metrics": metrics[0] if metrics else 0,
    }


def count_folder(root: Path) -> dict[str, int]:
    runs = params = metrics = 0
    for meta in root.glob("*/meta.yaml"):
        if "name: load" not in meta.read_text(encoding="utf-8"):
            continue
        for run in (p for p in meta.parent.iterdir() if (p / "meta.yaml").is_file()):
            runs += 1
            params += sum(1 for _ in (run / "params").iterdir())
            metrics += sum(len(f.read_text().splitlines()) for f in (run / "metrics").iterdir())
    return {"runs": runs, "params": params, "metrics": metrics}


def through_team_server(
    label: str, db_url: str, work: Path, args: argparse.Namespace, results: dict
) -> None:
    home = work / f"home-{label.split()[-1].strip('()').lower()}"
    server, port, cert = start_team_server(db_url, home, args.workers, args.auth_cache_seconds)
    try:
        env = dict(
            os.environ,
            MLFLOW_TRACKING_USERNAME="admin",
            MLFLOW_TRACKING_PASSWORD=ADMIN_PASSWORD,
        )
        env[tls_pin.CERT_PATH_VAR] = str(cert)
        run = run_clients(f"https://127.0.0.1:{port}", env, args, work)
        run["counted"] = count_database(db_url)
        run["artifacts"] = len(list((home / "share").rglob("note.txt")))
        results[label] = run
    finally:
        stop(server)
        if os.environ.get("BENCH_DEBUG"):  # the server's log, to see what it did
            for log in home.rglob("*.log"):
                print(f"server log {log.name}: " + log.read_text(errors="replace")[-1500:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--keys", type=int, default=4)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--auth-cache-seconds", type=int, default=60, help="0: hash every request")
    parser.add_argument("--postgres", default=os.environ.get("LAUNCHER_TEST_POSTGRES", ""))
    parser.add_argument("--stores", default="postgres,sqlite", help="which team servers to run")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not args.postgres and "postgres" in stores:
        stores.remove("postgres")
        print("no --postgres URL (or LAUNCHER_TEST_POSTGRES): the SQLite team server only")
    expected = {
        "runs": args.clients,
        "params": args.clients * args.params,
        "metrics": args.clients * args.keys * args.steps,
    }
    points = expected["params"] + expected["metrics"]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="team-load-") as tmp:
        work = Path(tmp)
        if "postgres" in stores:
            name = "bench_team_" + uuid.uuid4().hex[:8]
            admin_sql(args.postgres, f"CREATE DATABASE {name}")
            db_url = args.postgres.rsplit("/", 1)[0] + "/" + name
            try:
                through_team_server("team server (PostgreSQL)", db_url, work, args, results)
            finally:
                admin_sql(args.postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if "sqlite" in stores:
            db_url = "sqlite:///" + (work / "team" / "mlflow.db").as_posix()
            (work / "team").mkdir()
            through_team_server("team server (SQLite)", db_url, work, args, results)
        folder = work / "mlruns"
        env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
        run = run_clients(folder.as_uri(), env, args, work)
        run["counted"] = count_folder(folder)
        run["artifacts"] = len(list(folder.rglob("note.txt")))
        results["folder store"] = run
    print(
        f"{args.clients} clients, each {args.params} params + {args.keys}x{args.steps} metric "
        f"points + 1 artifact; {points} points in all; team servers with {args.workers} workers,"
        f" HTTPS, logins cached {args.auth_cache_seconds} s"
    )
    ok = True
    rates = {}
    for label, run in results.items():
        lost = {
            k: expected[k] - run["counted"][k] for k in expected if run["counted"][k] != expected[k]
        }
        fine = not lost and not run["errors"] and run["artifacts"] == args.clients
        ok = ok and fine
        rates[label] = points / run["seconds"]
        print(
            f"  {label:<26} {run['seconds']:7.1f} s  {rates[label]:7.1f} points/s  counted "
            f"{json.dumps(run['counted'])}, artifacts {run['artifacts']}, errors "
            f"{len(run['errors'])}{'' if fine else '  LOST ' + json.dumps(lost)}"
        )
        for error in run["errors"]:
            print(f"    {error}")
    for label in rates:
        if label != "folder store":
            print(f"  ratio {label} / folder store: {rates[label] / rates['folder store']:.2f}")
    print("nothing lost, no error" if ok else "FAILED: points lost or clients failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
