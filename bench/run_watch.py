"""The cost of watching runs: one look at ten projects on a 1,000-run folder store, and the idle
tray's CPU and memory with watching on and off.

    python bench/run_watch.py [--window 300] [--interval 30] [--no-tray]

The store is written here, as MLflow's folder store lays it out: ten projects (prefixes
``p0_`` .. ``p9_``), five experiments each, twenty runs per experiment (1,000 runs), two runs
per project still RUNNING with three metrics of 100 steps each; the rest FINISHED.

Part 1, in this process: the first look (it reads every run's meta.yaml once), a look with
nothing changed, and a look after one run ended and another logged a step: the time of each and
the files it read (folders listed plus files opened, counted by the reader).

Part 2: the tray (``python -m launcher``, offscreen, "keep a server warm" off so that no spare
server is counted) with those ten projects, watching every ``--interval`` seconds, then with
watching off (interval 0): the tray process's CPU time over ``--window`` seconds, as a share of
one core, and its RSS at the end of the window.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from launcher.model.project import Project  # noqa: E402
from launcher.server.runs.folder import FolderRuns  # noqa: E402
from launcher.server.runs.watcher import RunWatcher  # noqa: E402

PROJECTS, EXPERIMENTS, RUNS, ACTIVE, STEPS = 10, 5, 20, 2, 100


def make_store(root: Path) -> list[Path]:
    """The 1,000-run store; returns the active runs' folders."""
    now = int(time.time() * 1000)
    active: list[Path] = []
    exp_id = 0
    for p in range(PROJECTS):
        for e in range(EXPERIMENTS):
            exp_id += 1
            exp = root / str(exp_id)
            exp.mkdir(parents=True)
            (exp / "meta.yaml").write_text(
                f"experiment_id: '{exp_id}'\nname: p{p}_train_{e:03d}_bench\n"
                "lifecycle_stage: active\nartifact_location: file:///dev/null\n"
            )
            for r in range(RUNS):
                running = e == 0 and r < ACTIVE
                run = exp / f"{exp_id:03d}{r:029d}"
                (run / "metrics").mkdir(parents=True)
                (run / "params").mkdir()
                (run / "tags").mkdir()
                end = "null" if running else str(now - 3_600_000 + r)
                (run / "meta.yaml").write_text(
                    f"run_id: {run.name}\nrun_uuid: {run.name}\nrun_name: run-{r}\n"
                    f"experiment_id: '{exp_id}'\nstatus: {1 if running else 3}\n"
                    f"start_time: {now - 7_200_000}\nend_time: {end}\nlifecycle_stage: active\n"
                    "user_id: bench\nartifact_uri: file:///dev/null\nsource_type: 4\n"
                )
                for key in ("loss", "acc", "lr"):
                    lines = "".join(f"{now - 60_000 + s} {1 / (s + 1)} {s}\n" for s in range(STEPS))
                    (run / "metrics" / key).write_text(lines)
                if running:
                    active.append(run)
    return active


def projects(root: Path) -> list[Project]:
    return [Project(f"Project {p}", str(root), prefix=f"p{p}_", watch_runs=True)
            for p in range(PROJECTS)]  # fmt: skip


def files_read(watcher: RunWatcher) -> int:
    readers = [r for _key, r, _share in watcher._readers.values()]
    return sum(r.files_read for r in readers if isinstance(r, FolderRuns))


def part_one(root: Path, active: list[Path]) -> None:
    watcher = RunWatcher()
    watched = projects(root)
    rows = []
    for label in ("first look (cold)", "nothing changed", "one ended, one logged"):
        if label.startswith("one"):
            meta = active[0] / "meta.yaml"
            meta.write_text(meta.read_text().replace("status: 1", "status: 3").replace(
                "end_time: null", f"end_time: {int(time.time() * 1000)}"))  # fmt: skip
            with (active[1] / "metrics" / "loss").open("a") as f:
                f.write(f"{int(time.time() * 1000)} 0.001 {STEPS}\n")
        before = files_read(watcher)
        look = watcher.look(watched)
        rows.append((label, look.seconds, files_read(watcher) - before, len(look.events)))
    print(f"Ten projects on one folder store of {PROJECTS * EXPERIMENTS * RUNS:,} runs "
          f"({PROJECTS * ACTIVE} active):")  # fmt: skip
    for label, seconds, files, events in rows:
        print(f"  {label:<24} {seconds * 1000:8.1f} ms  {files:5d} files read  {events} events")


def make_home(root: Path, store: Path, interval: int) -> Path:
    home = root / f"home-{interval}"
    (home / "config").mkdir(parents=True)
    config = {
        "schema": 1,
        "settings": {"keep_warm": False, "watch_interval_seconds": interval,
                     "last_project": "Project 0"},
        "catalogs": [],
        "projects": [p.to_dict() for p in projects(store)],
    }  # fmt: skip
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return home


def tray_cost(root: Path, store: Path, interval: int, window: float) -> tuple[float, float, int]:
    """(CPU % of one core over the window, RSS MiB at its end, looks seen in the state file)."""
    home = make_home(root, store, interval)
    env = dict(os.environ, MLFLOW_LAUNCHER_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "launcher"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        ps = psutil.Process(proc.pid)
        time.sleep(10)  # started and settled
        cpu0, t0 = sum(ps.cpu_times()[:2]), time.monotonic()
        time.sleep(window)
        cpu1, t1 = sum(ps.cpu_times()[:2]), time.monotonic()
        rss = ps.memory_info().rss / 2**20
        state = home / "data" / "run-watch.json"
        looked = state.is_file()
        return 100 * (cpu1 - cpu0) / (t1 - t0), rss, int(looked)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=300.0, help="seconds of idle measured")
    parser.add_argument("--interval", type=int, default=30, help="the watch interval, seconds")
    parser.add_argument("--no-tray", action="store_true", help="part 1 only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="run-watch-bench-") as tmp:
        root = Path(tmp)
        store = root / "mlruns"
        active = make_store(store)
        part_one(store, active)
        if args.no_tray:
            return 0
        print(f"The idle tray, ten projects watched every {args.interval} s, "
              f"averaged over {args.window:g} s:")  # fmt: skip
        for label, interval in (("watching on", args.interval), ("watching off", 0)):
            cpu, rss, looked = tray_cost(root, store, interval, args.window)
            note = "state file written" if looked else "no look"
            print(f"  {label:<13} CPU {cpu:5.2f} % of one core, RSS {rss:6.1f} MiB ({note})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
