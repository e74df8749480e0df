"""A share of several projects gathered into one database, a workspace each: how long it takes.

Builds PROJECTS folder stores with the mlflow client (as ``big_store.py``: one experiment of RUNS
runs, each 5 params, 5 metrics of 10 steps and 3 tags), then runs ``mlflow-launcher gather``
(converter, check, one transaction per project, the verification per workspace) into a new
SQLite file and, with --postgres (default $LAUNCHER_TEST_POSTGRES), into a scratch PostgreSQL
database. Prints each target's time, per project and in all, and what was verified.

    python bench/gather_share.py [--projects 3] [--runs 300] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from big_store import build_store  # noqa: E402


def launcher(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MLFLOW_LAUNCHER_HOME=str(home))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return subprocess.run([sys.executable, "-m", "launcher", *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=3600)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--postgres", default=os.environ.get("LAUNCHER_TEST_POSTGRES", ""))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gather-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        names = [f"project-{i}" for i in range(args.projects)]
        started = time.perf_counter()
        for name in names:
            root = work / "share" / name / "mlruns"
            root.mkdir(parents=True)
            build_store(root, args.runs)
            launcher(home, "add", name, str(root), "--artifacts", str(root))
        print(f"built {args.projects} folder stores of {args.runs} runs each in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        targets = [("SQLite", "sqlite:///" + (work / "team.db").as_posix())]
        scratch = ""
        if args.postgres:
            import psycopg

            scratch = "bench_gather_" + uuid.uuid4().hex[:8]
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {scratch}")
            targets.append(("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/" + scratch))
        ok = True
        try:
            for label, url in targets:
                started = time.perf_counter()
                done = launcher(home, "gather", *names, "--to", url, "--json")
                seconds = time.perf_counter() - started
                if done.returncode != 0:
                    print(f"{label}: FAILED\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
                    ok = False
                    continue
                report = json.loads(done.stdout)
                each = {w: r["seconds"] for w, r in report["workspaces"].items()}
                kinds = next(iter(report["workspaces"].values()))["kinds"]
                print(f"{label}: {len(each)} workspaces in {seconds:.1f} s "
                      f"(per project: {', '.join(f'{s:.1f} s' for s in each.values())}); "
                      f"each verified: {kinds['runs']} runs, {kinds['params']} params, "
                      f"{kinds['metrics']} metric points, {kinds['tags']} run tags")  # fmt: skip
        finally:
            if scratch:
                import psycopg

                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
