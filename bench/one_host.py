"""One host serving many projects: throughput beside nine others, a hanging store, a host killed.

    python bench/one_host.py [--seconds 10] [--clients 4]

With the launcher's own servers (``MlflowServer`` mounted into a ``HostPool``, as the tray runs
them), on folder stores written by the mlflow client, in a temp MLFLOW_LAUNCHER_HOME:

1. Throughput: one project's runs page (``runs/search`` as the UI asks it) loaded by
   ``--clients`` threads for ``--seconds``, served alone in its host, then the same project
   mounted beside nine others in one host; requests per second of each and their ratio
   (goal, issue 22: at least 0.8x). The host's memory (RSS, USS) with one and with ten projects.
2. A hanging store: a project whose share blocks every read (a FIFO as an experiment's
   meta.yaml) is loaded with more requests than its worker threads; meanwhile the slowest
   /health and runs-page answer of another project of the same host (goal: within 1 s).
3. A host killed (SIGKILL): seconds until each project it served answers again on its own
   port (goal: within 15 s).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from launcher.model.paths import app_paths  # noqa: E402
from launcher.model.project import Project  # noqa: E402
from launcher.server import rest  # noqa: E402
from launcher.server.process import MlflowServer  # noqa: E402
from launcher.server.warm.host_pool import HostPool  # noqa: E402

RUNS_PAGE = "ajax-api/2.0/mlflow/runs/search"
KEYS: dict[str, str] = {}
"""URL -> access key of the servers this bench started (the launcher's links carry them)."""


def headers_for(url: str) -> dict[str, str]:
    key = next((k for base, k in KEYS.items() if url.startswith(base)), None)
    return {"Authorization": f"Bearer {key}"} if key else {}


def post(url: str, body: dict, timeout: float = 30) -> bytes:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={**headers_for(url), "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return bytes(response.read())


def rps(url: str, seconds: float, clients: int) -> float:
    """Requests per second of the runs page, ``clients`` threads for ``seconds``."""
    done = [0] * clients
    deadline = time.monotonic() + seconds

    def load(i: int) -> None:
        while time.monotonic() < deadline:
            post(url + RUNS_PAGE, {"experiment_ids": ["1", "2"], "max_results": 100})
            done[i] += 1

    threads = [threading.Thread(target=load, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def memory(pid: int) -> str:
    import psutil

    info = psutil.Process(pid).memory_full_info()
    return f"{info.rss / 2**20:.0f} MiB RSS ({getattr(info, 'uss', 0) / 2**20:.0f} USS)"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=4)
    args = ap.parse_args()
    met = True
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["MLFLOW_LAUNCHER_HOME"] = str(root / "home")
        paths = app_paths()
        template = root / "template" / "mlruns"
        template.parent.mkdir()
        names = [f"bench_train_{i:03d}_x" for i in range(5)]
        subprocess.run([sys.executable, str(REPO / "tests" / "stores.py"), "folder",
                        str(template), *names], check=True)  # fmt: skip
        stores = []
        for i in range(10):
            dest = root / f"p{i}" / "mlruns"
            shutil.copytree(template, dest)
            stores.append(dest)

        # 1. throughput alone, then beside nine others
        pool = HostPool(paths)
        alone = MlflowServer(Project("p0", str(stores[0])), paths, hosts=pool)
        url = alone.start()
        KEYS[url] = alone.access_key or ""
        rps(url, 2, args.clients)  # warm-up
        solo = rps(url, args.seconds, args.clients)
        solo_memory = memory(alone.pid or 0)
        alone.stop()
        pool.close()
        pool = HostPool(paths)
        servers = [
            MlflowServer(Project(f"p{i}", str(s)), paths, hosts=pool) for i, s in enumerate(stores)
        ]
        urls = [s.start() for s in servers]
        KEYS.update({u: s.access_key for u, s in zip(urls, servers, strict=True) if s.access_key})
        assert len({s.pid for s in servers}) == 1
        rps(urls[0], 2, args.clients)
        beside = rps(urls[0], args.seconds, args.clients)
        ten_memory = memory(servers[0].pid or 0)
        ratio = beside / solo
        met &= ratio >= 0.8
        print("One project's runs page, requests per second "
              f"({args.clients} clients, {args.seconds:.0f} s each)")  # fmt: skip
        print(f"  alone in its host {solo:.1f}/s; beside nine others {beside:.1f}/s: "
              f"ratio {ratio:.2f} (goal >= 0.8)")  # fmt: skip
        print(f"  the host: {solo_memory} with one project, {ten_memory} with ten")

        # 2. a hanging store beside the others
        hang_dir = stores[9] / "987654"
        hang_dir.mkdir()
        os.mkfifo(hang_dir / "meta.yaml")
        hung = []
        for _ in range(60):

            def hang() -> None:
                with contextlib.suppress(Exception):
                    urllib.request.urlopen(
                        urllib.request.Request(
                            urls[9] + "ajax-api/2.0/mlflow/experiments/search?max_results=50",
                            headers=headers_for(urls[9]),
                        ),
                        timeout=120,
                    ).read()

            t = threading.Thread(target=hang, daemon=True)
            t.start()
            hung.append(t)
        time.sleep(3)
        slowest = 0.0
        for _ in range(20):
            for check in ("health", "runs"):
                t0 = time.perf_counter()
                if check == "health":
                    rest.is_healthy(urls[1], timeout=5)
                else:
                    post(urls[1] + RUNS_PAGE, {"experiment_ids": ["1"], "max_results": 100})
                slowest = max(slowest, time.perf_counter() - t0)
        still = sum(t.is_alive() for t in hung)
        met &= slowest <= 1.0
        print(f"A hanging store ({still} of 60 requests stuck in it): another project's slowest "
              f"/health or runs page {slowest:.3f} s (goal <= 1 s)")  # fmt: skip
        with open(hang_dir / "meta.yaml", "w") as fifo:
            fifo.write("")
        (hang_dir / "meta.yaml").unlink()

        # 3. the host killed
        watchers = [threading.Thread(target=s.wait, daemon=True) for s in servers]
        for w in watchers:
            w.start()
        host_pid = servers[0].pid
        assert host_pid is not None
        os.kill(host_pid, signal.SIGKILL)
        t0 = time.monotonic()
        back: dict[int, float] = {}
        while len(back) < len(servers) and time.monotonic() - t0 < 120:
            for i, (s, u) in enumerate(zip(servers, urls, strict=True)):
                if i not in back and s.pid not in (None, host_pid) and rest.is_healthy(u, 1):
                    back[i] = time.monotonic() - t0
            time.sleep(0.1)
        last = max(back.values()) if len(back) == len(servers) else float("inf")
        met &= last <= 15
        print(f"A host killed: {len(back)} of {len(servers)} projects answer again on their own "
              f"ports, the last after {last:.1f} s (goal <= 15 s)")  # fmt: skip
        for s in servers:
            s.stop()
        pool.close()
    print(f"goals: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
