"""Check a frozen launcher serves MLflow from the bundle alone.

Runs the bundle's executable with a bare environment (no Python, no venv on PATH, a temp
MLFLOW_LAUNCHER_HOME): for a folder store and a SQLite store, `serve` must print its URL with
its access key, refuse requests without it (403), `/health`
must be OK, `/` must return the UI, the experiments API must list the store's experiments, and
an MLflow client (this Python's, talking HTTP only) must be able to log params, metrics, an
artifact and a registered model through it, which shows the packages left out of the bundle are
not needed. SIGTERM must then leave no process behind. The exe's host mode (the warm server)
must get warm from the bundle alone, serve two stores at once, and end when its pipe closes.

    python build/check_bundle.py build/dist/mlflow-launcher/mlflow-launcher
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

NAMES = ["bundle_train_001_a", "bundle_eval_001_b"]


def fetch(url: str, key: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode("utf-8", "replace")


def split_key(line: str) -> tuple[str, str | None]:
    """The URL `serve` printed, as (server root, access key)."""
    parts = urllib.parse.urlsplit(line)
    key = urllib.parse.parse_qs(parts.query).get("launcher_key", [None])[0]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), key


def refused(url: str) -> bool:
    try:
        fetch(url)
    except urllib.error.HTTPError as exc:
        return exc.code == 403
    return False


def make_store(kind: str, root: Path) -> Path:
    store = root / ("mlruns" if kind == "folder" else "mlflow.db")
    uri = store.as_uri() if kind == "folder" else f"sqlite:///{store}"
    code = (
        "import os, sys, mlflow\nos.environ['MLFLOW_ALLOW_FILE_STORE'] = 'true'\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "for name in sys.argv[2:]:\n    mlflow.set_experiment(name)\n"
        "    with mlflow.start_run():\n        mlflow.log_param('p', 1)\n"
    )
    subprocess.run([sys.executable, "-c", code, uri, *NAMES], check=True, capture_output=True)
    return store


CLIENT = """
import sys, mlflow, tempfile, os
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("bundle_client_001_logged")
with mlflow.start_run() as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("loss", 0.25)
    path = os.path.join(tempfile.mkdtemp(), "note.txt")
    open(path, "w").write("hello")
    mlflow.log_artifact(path)
client = mlflow.MlflowClient()
assert client.get_run(run.info.run_id).data.metrics["loss"] == 0.25
local = client.download_artifacts(run.info.run_id, "note.txt", tempfile.mkdtemp())
assert open(local).read() == "hello"
client.create_registered_model("bundle-model")
client.create_model_version("bundle-model", f"runs:/{run.info.run_id}/note.txt", run.info.run_id)
assert client.get_registered_model("bundle-model").name == "bundle-model"
print("client ok")
"""


def check_store(exe: Path, kind: str, root: Path) -> float:
    store = make_store(kind, root / kind)
    home = root / f"home-{kind}"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "MLFLOW_LAUNCHER_HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "C.UTF-8",
    }
    run = [str(exe)]
    subprocess.run([*run, "add", kind, str(store)], env=env, check=True, timeout=60)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*run, "serve", kind, "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        elapsed = time.perf_counter() - start
        if not line.startswith("http://127.0.0.1:"):
            raise SystemExit(f"{kind}: no URL from the bundle; stderr:\n{proc.stderr.read()}")  # type: ignore[union-attr]
        url, key = split_key(line)
        assert key, f"{kind}: the URL carries no access key: {line}"
        assert fetch(url + "health").strip() == "OK"
        search = url + "ajax-api/2.0/mlflow/experiments/search?max_results=100"
        assert refused(url) and refused(search), (
            "the frozen server let a request without its key in"
        )
        assert "<html" in fetch(url, key).lower(), "the UI did not load"
        listed = fetch(search, key)
        assert all(name in listed for name in NAMES), listed
        client = subprocess.run(
            [sys.executable, "-c", CLIENT, url],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "MLFLOW_TRACKING_TOKEN": key},
        )
        assert client.returncode == 0, client.stderr[-3000:]
        pids = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        _, alive = psutil.wait_procs(
            [psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=10
        )
        assert not alive, f"left behind: {alive}"
        print(
            f"{kind}: served {url} in {elapsed:.1f} s; refused without its key; UI, REST and "
            "client logging ok with it; stopped clean"
        )
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()


def check_host(exe: Path, root: Path) -> float:
    """The exe's host mode (the tray's warm server): it imports MLflow's server from the bundle
    and says it is warm, having opened no store; then it serves a folder store and a SQLite
    store at once, each on its own port, from one process; its pipe closing ends it."""
    home = root / "home-host"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "MLFLOW_LAUNCHER_HOME": str(home),
           "LANG": "C.UTF-8"}  # fmt: skip
    log = root / "host.log"
    start = time.perf_counter()
    with log.open("w") as errors:
        proc = subprocess.Popen(
            [str(exe), "--serve-child", "host", "--host", "127.0.0.1", "--priority", "normal"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True,
        )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None

        def answer() -> dict:
            while True:
                line = proc.stdout.readline()  # type: ignore[union-attr]
                assert line, ("the host ended", log.read_text())
                if line.startswith("LAUNCHER-HOST: "):
                    return dict(json.loads(line.split(" ", 1)[1]))

        assert answer()["event"] == "warm"
        elapsed = time.perf_counter() - start
        ports = {}
        for kind in ("folder", "sqlite"):
            store = make_store(kind, root / f"host-{kind}")
            uri = store.as_uri() if kind == "folder" else f"sqlite:///{store}"
            late = {
                "_MLFLOW_SERVER_FILE_STORE": uri,
                "_MLFLOW_SERVER_ARTIFACT_ROOT": "mlflow-artifacts:/",
                "_MLFLOW_SERVER_SERVE_ARTIFACTS": "true",
                "MLFLOW_ALLOW_FILE_STORE": "true",
                "_MLFLOW_SERVER_ARTIFACT_DESTINATION": str(root / f"host-{kind}-artifacts"),
            }
            request = {"op": "mount", "id": kind, "port": 0, "env": {**env, **late},
                       "started_with": env}  # fmt: skip
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            said = answer()
            assert said.get("event") == "mounted", (said, log.read_text())
            ports[kind] = said["port"]
        for kind, port in ports.items():
            listed = fetch(
                f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/experiments/search?max_results=50"
            )
            assert all(n in listed for n in NAMES), (kind, listed[:500])
        proc.stdin.close()  # the launcher went away
        assert proc.wait(30) == 0, "the host did not end with its pipe"
        served = sorted(ports.values())
        print(f"host: warm in {elapsed:.1f} s from the bundle; a folder and a SQLite store")
        print(f"host: served from one process on ports {served}; ended with its pipe")
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()


def main() -> int:
    exe = Path(sys.argv[1]).resolve()
    if not exe.is_file():
        print(f"no bundle executable at {exe}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bundle-check-") as tmp:
        for kind in ("folder", "sqlite"):
            check_store(exe, kind, Path(tmp))
        check_host(exe, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
