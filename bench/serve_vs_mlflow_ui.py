"""Plain `mlflow ui` against `mlflow-launcher serve` on the same store, side by side.

Runs the two alternately (so machine noise hits both alike), several times each, and prints the
median time from process start to `GET /health` = OK and the summed RSS of each process tree
once ready, with the ratios launcher/plain. Goals (issue 2): time <= 0.4, memory <= 0.3.

    python bench/serve_vs_mlflow_ui.py [--runs 3] [--kind folder|sqlite] [--store PATH]
        [--launcher-cmd CMD]

--launcher-cmd runs CMD (split like a shell line) instead of `python -m launcher`, e.g. the frozen
bundle: --launcher-cmd build/dist/mlflow-launcher/mlflow-launcher.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
SETTLE_SECONDS = 2.0
"""RSS is read this long after ready, once workers have finished importing."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
            return r.read().decode().strip() == "OK"
    except OSError:
        return False


def tree_rss(pid: int) -> tuple[int, int]:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # a worker may exit meanwhile
            total += proc.memory_info().rss
    return total, len(procs)


def stop_tree(proc: subprocess.Popen[bytes]) -> None:
    procs = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    os.killpg(proc.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=15)
    for p in alive:
        p.kill()
    proc.wait(5)


def measure(cmd: list[str], port: int, env: dict[str, str], cwd: str) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not healthy(port):
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[:4]} exited with {proc.returncode}")
            if time.perf_counter() - start > 180:
                raise RuntimeError(f"{cmd[:4]} not ready in 180 s")
            time.sleep(0.05)
        ready = time.perf_counter() - start
        time.sleep(SETTLE_SECONDS)
        rss, count = tree_rss(proc.pid)
        return {"seconds": ready, "rss_mb": rss / 1e6, "processes": count}
    finally:
        stop_tree(proc)


def make_store(kind: str, root: Path) -> Path:
    store = root / ("mlruns" if kind == "folder" else "mlflow.db")
    code = (
        "import os, sys, mlflow\n"
        "os.environ['MLFLOW_ALLOW_FILE_STORE'] = 'true'\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "for i in range(5):\n"
        "    mlflow.set_experiment(f'bench_train_{i:03d}_x')\n"
        "    with mlflow.start_run():\n"
        "        mlflow.log_metric('loss', 1 / (i + 1))\n"
    )
    uri = store.as_uri() if kind == "folder" else "sqlite:///" + str(store)
    subprocess.run([sys.executable, "-c", code, uri], check=True, capture_output=True)
    return store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kind", choices=["folder", "sqlite"], default="folder")
    parser.add_argument("--store", help="an existing store (default: a fresh one)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--launcher-cmd",
        help="the launcher to run instead of `python -m launcher` (e.g. a frozen bundle's exe)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="launcher-bench-") as tmp:
        root = Path(tmp)
        store = Path(args.store) if args.store else make_store(args.kind, root)
        kind = "sqlite" if store.suffix == ".db" else "folder"
        uri = store.as_uri() if kind == "folder" else "sqlite:///" + str(store)
        home = root / "home"
        env = {**os.environ, "MLFLOW_LAUNCHER_HOME": str(home), "MLFLOW_ALLOW_FILE_STORE": "true"}
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        launcher = [sys.executable, "-m", "launcher"]
        if args.launcher_cmd:
            launcher = shlex.split(args.launcher_cmd)
            if Path(launcher[0]).exists():  # the runs' working directory is the temp dir
                launcher[0] = str(Path(launcher[0]).resolve())
        subprocess.run(
            [*launcher, "add", "bench", str(store)], env=env, check=True, capture_output=True
        )
        results: dict[str, list[dict[str, float]]] = {"plain": [], "launcher": []}
        for run in range(args.runs):
            port = free_port()
            plain = [
                sys.executable,
                "-m",
                "mlflow",
                "ui",
                "--backend-store-uri",
                uri,
                "--port",
                str(port),
            ]
            results["plain"].append(measure(plain, port, env, tmp))
            port = free_port()
            subprocess.run(
                [*launcher, "edit", "bench", "--port", str(port)],
                env=env,
                check=True,
                capture_output=True,
            )
            serve = [*launcher, "serve", "bench", "--no-browser"]
            results["launcher"].append(measure(serve, port, env, tmp))
            print(
                f"run {run + 1}/{args.runs}: plain {results['plain'][-1]}, "
                f"launcher {results['launcher'][-1]}",
                file=sys.stderr,
            )

    summary = {
        name: {
            "median_seconds": statistics.median(r["seconds"] for r in rows),
            "median_rss_mb": statistics.median(r["rss_mb"] for r in rows),
            "processes": max(r["processes"] for r in rows),
        }
        for name, rows in results.items()
    }
    time_ratio = summary["launcher"]["median_seconds"] / summary["plain"]["median_seconds"]
    rss_ratio = summary["launcher"]["median_rss_mb"] / summary["plain"]["median_rss_mb"]
    if args.json:
        print(json.dumps({**summary, "time_ratio": time_ratio, "rss_ratio": rss_ratio}, indent=2))
        return 0
    print(f"store: {kind}, {args.runs} runs each, alternating; launcher: {shlex.join(launcher)}")
    print(f"{'':10}{'time to /health':>18}{'tree RSS':>14}{'processes':>11}")
    for name, row in summary.items():
        print(
            f"{name:10}{row['median_seconds']:>16.2f} s{row['median_rss_mb']:>11.0f} MB"
            f"{row['processes']:>11}"
        )
    print(
        f"ratio launcher/plain: time {time_ratio:.2f} (goal <= 0.40), "
        f"memory {rss_ratio:.2f} (goal <= 0.30)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
