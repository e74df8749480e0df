"""The "Active runs (N)" submenu: each active run of the watched projects, as seen at the run
watch's last look (no store is read when the menu opens), and a click opens that run's page."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QMenu

from launcher.model.runs import events as ev
from launcher.model.runs.events import RunInfo

SHOWN = 25
"""More active runs than this end in a "… and N more" line (one screen high)."""


def entry_text(run: RunInfo, now_ms: int) -> str:
    """project · experiment · run — elapsed, last metric and its step."""
    text = f"{run.project} · {run.experiment} · {run.name or run.run_id[:8]} — "
    text += ev.duration(run, now_ms)
    last = run.last_metric
    if last is not None:
        text += f", {last.key} {ev.number(last.value)} (step {last.step})"
    return text


def add_active_runs(menu: QMenu, runs: list[RunInfo], open_run: Callable[[RunInfo], None]) -> None:
    """The submenu, when a watched run is active (no empty menu to open); a click opens it."""
    if not runs:
        return
    sub = menu.addMenu(f"Active runs ({len(runs)})")
    sub.menuAction().setObjectName("active-runs")
    now = int(time.time() * 1000)
    for run in runs[:SHOWN]:
        action = sub.addAction(entry_text(run, now))
        action.setObjectName(f"run:{run.run_id}")
        action.setToolTip(f"{run.status}, started {ev.clock(run.start_time)}; opens its page")
        action.triggered.connect(lambda _=False, r=run: open_run(r))
    if len(runs) > SHOWN:
        more = sub.addAction(f"… and {len(runs) - SHOWN} more (mlflow-launcher runs --active)")
        more.setEnabled(False)
