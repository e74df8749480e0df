"""Three projects opened back to back against plain ``mlflow ui``, side by side in one run.

    python bench/three_in_a_row.py [--via menu,cli] [--plain-runs 3]

Under Xvfb with trayer (as bench/warm_open.py, whose helpers this reuses) the tray app runs with a
temp MLFLOW_LAUNCHER_HOME and its default settings. Once its host is warm (the app log says so)
its idle memory is taken, then three different projects are opened one right after the other
(no wait for the previous one to be served), clicked two ways (``--via``):

- ``menu``: what a click on a project in the tray's menu does. The request goes to the running
  tray over its single-instance channel from this process, and the tray handles it exactly
  as the menu's action (``TrayApp.handle`` -> ``Controller.open_project``), with no process
  started per click.
- ``cli``: ``mlflow-launcher open NAME``, a new process per click (a shortcut, a script),
  which then hands the same request over.

Timed for each, from its own click: the browser called on a UI whose /health answers OK, and
that UI's page served to the browser (BROWSER is warm_open's recording script; a URL is mapped
to its project through the server logs' ``=== starting 'NAME' on URL`` line). Then the memory
of the tray's process tree (sum of RSS, and of USS: what each process alone holds) with the
three projects served, and, clicked via the menu, with seven more opened after them (ten).

Against: ``mlflow ui --backend-store-uri STORE`` (defaults, as a user types it) to /health OK and
to its page served, ``--plain-runs`` times per store, run between the tray runs, alone; its
medians are the reference. Folder and SQLite stores (5 experiments each, written by the mlflow
client). Goals (issues 17 and 22): each of the three at most 0.1x plain ``mlflow ui``'s median,
judged on menu clicks (the cli figures are printed beside them); the tree at most 400 MiB idle,
550 MiB with three projects served, 700 MiB with ten.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import warm_open  # noqa: E402
from bench.warm_open import Tray, origin, plain_mlflow_ui_times  # noqa: E402
from launcher.model.paths import app_paths  # noqa: E402
from launcher.ui.tray.instance import hand_over, instance_name  # noqa: E402  (Qt loaded before a click)
from tests.app import xsession  # noqa: E402

GOAL = 0.1
OPEN_TIMEOUT = 150.0
"""A server start gives up after 120 s (process.READY_TIMEOUT): no open by then is a failure."""
KINDS = ("folder", "sqlite")
WARM_LINE = r"host \d+ warm after"
MEMORY_GOALS = {"idle": 400, "three": 550, "ten": 700}
"""Issue 22: the tray's whole tree, RSS in MiB."""
PROJECTS = 10
STARTING = re.compile(r"=== starting '([^']+)' on (\S+)")


def make_stores(root: Path) -> dict[str, Path]:
    """warm_open's stores, and three different projects of each kind (copies of the store)."""
    made = warm_open.make_stores(root)
    stores = {"folder": made["folder"], "sqlite": made["sqlite"]}
    for i in range(1, PROJECTS + 1):
        folder = root / f"folder{i}" / "mlruns"
        shutil.copytree(made["folder"], folder)
        stores[f"folder{i}"] = folder
        copy = root / f"sqlite{i}" / "mlflow.db"
        copy.parent.mkdir(parents=True)
        shutil.copy2(made["sqlite"], copy)
        stores[f"sqlite{i}"] = copy
    return stores


def served_urls(home: Path) -> dict[str, str]:
    """Server origin -> project name, from the servers' logs."""
    found: dict[str, str] = {}
    for log in (home / "logs" / "servers").glob("*.log"):
        for name, url in STARTING.findall(log.read_text(encoding="utf-8", errors="replace")):
            found[origin(url)] = name
    return found


VIAS = ("menu", "cli")


def click(tray: Tray, home: Path, name: str, via: str) -> None:
    """One click on project ``name`` (see the module's docstring for ``via``)."""
    if via == "cli":
        subprocess.run([sys.executable, "-m", "launcher", "open", name], env=tray.env, cwd=REPO,
                       check=True, timeout=60)  # fmt: skip
        return
    channel = instance_name(app_paths({"MLFLOW_LAUNCHER_HOME": str(home)}))
    if not hand_over(channel, {"command": "open", "name": name}):
        raise RuntimeError(f"the tray did not take the click on {name}")


def three_in_a_row(
    tray: Tray, home: Path, names: list[str], via: str
) -> dict[str, tuple[float, float]]:
    """Click the three projects one right after the other; seconds from each click to its
    healthy UI in the browser, and to that UI's page served."""
    clicked: dict[str, float] = {}
    for name in names:  # as fast as one hand-over to the tray after another
        clicked[name] = time.time()
        click(tray, home, name, via)
    deadline = time.monotonic() + OPEN_TIMEOUT
    while tray.opens() < len(names):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {tray.opens()} of {names} were opened")
        time.sleep(0.02)
    urls = served_urls(home)
    took: dict[str, tuple[float, float]] = {}
    for line in tray.browser_log.read_text().splitlines():
        record = json.loads(line)
        name = urls[origin(record["url"])]
        if not (record["ok"] and record["page"]):
            raise RuntimeError(f"{name}: no healthy UI page when the browser was called: {record}")
        took[name] = (record["t"] - clicked[name], record["t_page"] - clicked[name])
    return took


def tree_memory(pid: int) -> dict[str, float]:
    """The tray's process tree: RSS and USS summed, in MiB, and how many processes."""
    import psutil

    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    rss = uss = 0
    for proc in procs:
        info = proc.memory_full_info()
        rss += info.rss
        uss += getattr(info, "uss", 0)
    return {"rss": rss / 2**20, "uss": uss / 2**20, "procs": len(procs)}


def tray_run(
    session_env: dict[str, str], root: Path, stores: dict[str, Path], kind: str, via: str
) -> dict[str, Any]:
    """One tray: idle memory, three clicks, memory with them served (and with ten, via menu).

    A run that fails says why and keeps its logs (the temp folder goes), the other runs go on."""
    tag = f"{kind}-{via}"
    home = warm_open.make_home(root, stores, True, f"home-{tag}")
    try:
        return _tray_run(session_env, root, home, kind, via)
    except RuntimeError as exc:
        kept = Path(tempfile.mkdtemp(prefix=f"three_in_a_row-{tag}-"))
        shutil.copytree(home / "logs", kept / "logs", dirs_exist_ok=True)
        print(f"{tag}: {exc} (logs kept in {kept})", file=sys.stderr)
        return {"error": str(exc)}


def _tray_run(
    session_env: dict[str, str], root: Path, home: Path, kind: str, via: str
) -> dict[str, Any]:
    tray = Tray(session_env, home, root / f"opens-{kind}-{via}")
    ten = None
    try:
        tray.wait_log(WARM_LINE, 0)  # the host is warm
        time.sleep(3)
        idle = tree_memory(tray.proc.pid)
        names = [f"{kind}{i}" for i in (1, 2, 3)]
        took = three_in_a_row(tray, home, names, via)
        time.sleep(2)
        three = tree_memory(tray.proc.pid)
        by_host = sum(
            "served by the host" in p.read_text(encoding="utf-8", errors="replace")
            for p in (home / "logs" / "servers").glob("*.log")
        )
        if via == "menu":
            for i in range(4, PROJECTS + 1):
                click(tray, home, f"{kind}{i}", via)
                deadline = time.monotonic() + OPEN_TIMEOUT
                while tray.opens() < i:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{kind}{i} was not opened")
                    time.sleep(0.05)
            time.sleep(2)
            ten = tree_memory(tray.proc.pid)
    finally:
        tray.quit()
    return {"times": [took[n] for n in names], "idle": idle, "three": three, "ten": ten,
            "by_host": by_host}  # fmt: skip


def memory_text(memory: dict[str, float] | None) -> str:
    if memory is None:
        return "-"
    return f"{memory['rss']:.0f} MiB RSS ({memory['uss']:.0f} USS) in {memory['procs']} processes"


def ratios_text(times: list[float], median: float) -> tuple[str, bool]:
    """``1.23 s (0.045x), ...`` and whether each meets the goal."""
    ratios = [t / median for t in times]
    text = ", ".join(f"{t:.2f} s ({r:.3f}x)" for t, r in zip(times, ratios, strict=True))
    return text, all(r <= GOAL for r in ratios)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--via", default=",".join(VIAS), help="how to click: menu, cli")
    parser.add_argument("--plain-runs", type=int, default=3)
    args = parser.parse_args()
    vias = [v for v in args.via.split(",") if v in VIAS]
    missing = xsession.available(tray=True)
    if missing:
        print(f"skipped: {missing}")
        return 2
    plain: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp, xsession.XSession(tray=True) as session:
        root = Path(tmp)
        stores = make_stores(root / "stores")
        for kind in KINDS:
            # Alternated, so a change in the machine's load touches both sides alike.
            for i in range(max(args.plain_runs, len(vias))):
                if i < args.plain_runs:
                    work = root / f"plain-{kind}-{i}"
                    plain[kind].append(plain_mlflow_ui_times(stores[kind], kind, work))
                if i < len(vias):
                    runs[kind, vias[i]] = tray_run(session.env, root, stores, kind, vias[i])
    judged = "menu" if "menu" in vias else vias[0]
    print("Three projects opened back to back vs plain `mlflow ui` (medians), clicks 1-3")
    met = True
    for kind in KINDS:
        health = statistics.median(h for h, _ in plain[kind])
        page = statistics.median(p for _, p in plain[kind])
        runs_text = ", ".join(f"{h:.1f}/{p:.1f}" for h, p in plain[kind])
        print(f"  {kind}: plain mlflow ui median /health {health:.2f} s, page {page:.2f} s "
              f"(runs {runs_text} s)")  # fmt: skip
        for via in vias:
            run = runs[kind, via]
            if "error" in run:
                met = met and via != judged
                print(f"    via {via} FAILED: {run['error']}")
                continue
            h_text, h_ok = ratios_text([h for h, _ in run["times"]], health)
            p_text, p_ok = ratios_text([p for _, p in run["times"]], page)
            memory_ok = all(
                run[state] is None or run[state]["rss"] <= goal
                for state, goal in MEMORY_GOALS.items()
            )
            ok = h_ok and p_ok and memory_ok
            if via == judged:
                met = met and ok
            print(f"    via {via} [{run['by_host']}/3 by the host, {'met' if ok else 'missed'}]")
            print(f"      /health: {h_text}")
            print(f"      page:    {p_text}")
            for state in MEMORY_GOALS:
                print(f"      memory {state} (goal {MEMORY_GOALS[state]} MiB RSS): "
                      f"{memory_text(run[state])}")  # fmt: skip
    print(f"  goals (each <= {GOAL}x; memory) clicked via {judged}: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
