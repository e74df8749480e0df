"""Three projects opened back to back against plain ``mlflow ui``, side by side in one run.

    python bench/three_in_a_row.py [--counts 1,3] [--via menu,cli] [--plain-runs 3]

Under Xvfb with trayer (as bench/warm_open.py, whose helpers this reuses) the tray app runs with a
temp MLFLOW_LAUNCHER_HOME and ``warm_spares`` set to each of ``--counts``. Once its pool is full
(the app log says each spare is warm) its idle memory is taken, then three different projects are
opened one right after the other (no wait for the previous one to be served), clicked two ways
(``--via``):

- ``menu``: what a click on a project in the tray's menu does. The request goes to the running
  tray over its single-instance channel from this process, and the tray handles it exactly
  as the menu's action (``TrayApp.handle`` -> ``Controller.open_project``), with no process
  started per click.
- ``cli``: ``mlflow-launcher open NAME``, a new process per click (a shortcut, a script),
  which then hands the same request over.

Timed for each, from its own click: the browser called on a UI whose /health answers OK, and
that UI's page served to the browser (BROWSER is warm_open's recording script; a URL is mapped
to its project through the server logs' ``=== starting 'NAME' on URL`` line). Then the memory
of the tray's process tree (sum of RSS) with the three projects served, right after the clicks
and once its spares are back.

Against: ``mlflow ui --backend-store-uri STORE`` (defaults, as a user types it) to /health OK and
to its page served, ``--plain-runs`` times per store, run between the tray runs, alone; its
medians are the reference. Folder and SQLite stores (5 experiments each, written by the mlflow
client). Goal (issue 17): each of the three at most 0.1x plain ``mlflow ui``'s median, judged
on menu clicks with the largest count (the cli figures are printed beside them).
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
WARM_LINE = r"spare \d+ warm after"
STARTING = re.compile(r"=== starting '([^']+)' on (\S+)")


def make_stores(root: Path) -> dict[str, Path]:
    """warm_open's stores, and three different projects of each kind (copies of the store)."""
    made = warm_open.make_stores(root)
    stores = {"folder": made["folder"], "sqlite": made["sqlite"]}
    for i in (1, 2, 3):
        stores[f"folder{i}"] = made[f"row{i}"]
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


def settled(tray: Tray, pattern: str, seen: int, timeout: float = 120.0) -> bool:
    """Like ``Tray.wait_log`` but bounded and not fatal: a spare that a click took while it was
    still importing says "warm" into its project's log, not the app's, so a count can fall short."""
    deadline = time.monotonic() + timeout
    while tray.log_count(pattern) <= seen:
        if tray.proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def tray_run(
    session_env: dict[str, str],
    root: Path,
    stores: dict[str, Path],
    kind: str,
    count: int,
    via: str,
) -> dict[str, Any]:
    """One tray with ``warm_spares=count``: idle memory, three clicks, memory with them served.

    A run that fails says why and keeps its logs (the temp folder goes), the other runs go on."""
    tag = f"{kind}-{count}-{via}"
    home = warm_open.make_home(root, stores, True, f"home-{tag}", warm_spares=count)
    try:
        return _tray_run(session_env, root, home, kind, count, via)
    except RuntimeError as exc:
        kept = Path(tempfile.mkdtemp(prefix=f"three_in_a_row-{tag}-"))
        shutil.copytree(home / "logs", kept / "logs", dirs_exist_ok=True)
        print(f"{tag}: {exc} (logs kept in {kept})", file=sys.stderr)
        return {"error": str(exc)}


def _tray_run(
    session_env: dict[str, str], root: Path, home: Path, kind: str, count: int, via: str
) -> dict[str, Any]:
    tray = Tray(session_env, home, root / f"opens-{kind}-{count}-{via}")
    try:
        tray.wait_log(WARM_LINE, count - 1)  # the pool is full
        time.sleep(3)
        idle = tray.memory_mib()
        names = [f"{kind}{i}" for i in (1, 2, 3)]
        took = three_in_a_row(tray, home, names, via)
        served = tray.memory_mib()
        by_spare = sum(
            "served by the warm spare" in p.read_text(encoding="utf-8", errors="replace")
            for p in (home / "logs" / "servers").glob("*.log")
        )
        back = settled(tray, WARM_LINE, 2 * count - 1)  # the spares are back
        time.sleep(3)
        refilled = tray.memory_mib()
    finally:
        tray.quit()
    return {"times": [took[n] for n in names], "idle": idle, "served": served,
            "refilled": refilled, "back": back, "by_spare": by_spare}  # fmt: skip


def ratios_text(times: list[float], median: float) -> tuple[str, bool]:
    """``1.23 s (0.045x), ...`` and whether each meets the goal."""
    ratios = [t / median for t in times]
    text = ", ".join(f"{t:.2f} s ({r:.3f}x)" for t, r in zip(times, ratios, strict=True))
    return text, all(r <= GOAL for r in ratios)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="1,3", help="warm_spares values to compare")
    parser.add_argument("--via", default=",".join(VIAS), help="how to click: menu, cli")
    parser.add_argument("--plain-runs", type=int, default=3)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    vias = [v for v in args.via.split(",") if v in VIAS]
    setups = [(count, via) for count in counts for via in vias]
    missing = xsession.available(tray=True)
    if missing:
        print(f"skipped: {missing}")
        return 2
    plain: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    runs: dict[tuple[str, int, str], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp, xsession.XSession(tray=True) as session:
        root = Path(tmp)
        stores = make_stores(root / "stores")
        for kind in KINDS:
            # Alternated, so a change in the machine's load touches both sides alike.
            for i in range(max(args.plain_runs, len(setups))):
                if i < args.plain_runs:
                    work = root / f"plain-{kind}-{i}"
                    plain[kind].append(plain_mlflow_ui_times(stores[kind], kind, work))
                if i < len(setups):
                    count, via = setups[i]
                    runs[kind, count, via] = tray_run(session.env, root, stores, kind, count, via)
    judged = "menu" if "menu" in vias else vias[0]
    print("Three projects opened back to back vs plain `mlflow ui` (medians), clicks 1-3")
    met = True
    for kind in KINDS:
        health = statistics.median(h for h, _ in plain[kind])
        page = statistics.median(p for _, p in plain[kind])
        runs_text = ", ".join(f"{h:.1f}/{p:.1f}" for h, p in plain[kind])
        print(f"  {kind}: plain mlflow ui median /health {health:.2f} s, page {page:.2f} s "
              f"(runs {runs_text} s)")  # fmt: skip
        for count, via in setups:
            run = runs[kind, count, via]
            goal_run = count == max(counts) and via == judged
            if "error" in run:
                met = met and not goal_run
                print(f"    warm_spares={count}, via {via} FAILED: {run['error']}")
                continue
            h_text, h_ok = ratios_text([h for h, _ in run["times"]], health)
            p_text, p_ok = ratios_text([p for _, p in run["times"]], page)
            ok = h_ok and p_ok
            if goal_run:
                met = met and ok
            print(f"    warm_spares={count}, via {via} [{run['by_spare']}/3 by a spare, "
                  f"{'met' if ok else 'missed'}]")  # fmt: skip
            print(f"      /health: {h_text}")
            print(f"      page:    {p_text}")
            idle, served, refilled = run["idle"], run["served"], run["refilled"]
            back = "spares back" if run["back"] else "spares not all back"
            print(f"      memory (tree RSS): idle with its spares {idle[1]:.0f} MiB (tray "
                  f"{idle[0]:.0f}), three served {served[1]:.0f} MiB, "
                  f"{back} {refilled[1]:.0f} MiB")  # fmt: skip
    print(f"  goal each <= {GOAL}x with warm_spares={max(counts)}, clicked via {judged}: "
          f"{'met' if met else 'MISSED'}")  # fmt: skip
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
