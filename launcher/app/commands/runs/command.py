"""``runs``: the runs of your projects, read straight from their stores; ``--follow`` prints
their events (finished, failed, killed, seems stalled) as they happen, until Ctrl-C.

No server is started and nothing is written to a store (``launcher.server.runs``). Without
names, the projects the tray watches (``launcher.model.runs.watched.watched``), or every local
project when no tray has watched yet.
"""

from __future__ import annotations

import argparse
import json
import time

from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, UsageError, err, find_project, load
from launcher.app.commands.runs.follow import follow
from launcher.model.config import ConfigStore
from launcher.model.project import Project
from launcher.model.runs import events as ev
from launcher.model.runs.events import RunInfo
from launcher.model.runs.watched import watched_projects
from launcher.model.stores import StoreError
from launcher.server.runs.watcher import load_state, reader_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="the runs of your projects; --follow prints their events")
    p.add_argument("names", nargs="*", metavar="NAME", help="projects (default: those watched)")
    p.add_argument("--active", action="store_true", help="only runs still running")
    p.add_argument("--since", default="24h", help="runs ended this recently too (default 24h)")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON lines "
                   "with --follow)")  # fmt: skip
    p.add_argument("--follow", action="store_true", help="print events as they happen")
    p.add_argument("--interval", type=float, default=0, help="seconds between looks (--follow; "
                   "default the tray's setting)")  # fmt: skip
    p.add_argument("--stall-minutes", type=float, default=0, help="nothing logged this long: "
                   "'seems stalled' (default the tray's setting)")  # fmt: skip
    p.add_argument("--looks", type=int, default=0, help=argparse.SUPPRESS)  # tests: stop after N
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    try:
        since_s = ev.parse_since(args.since)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.names:
        projects = [find_project(config, store.paths, n) for n in args.names]
    else:
        state = load_state(store.paths)  # None: no tray has watched yet, so every project
        projects = list(config.projects)
        if state is not None:
            opened = config.settings.opened
            projects = watched_projects(projects, opened, state.first_seen, time.time())
        if not projects:
            err("No project's runs are watched: name projects, or open one in the tray first.")
            return EXIT_OK
    if args.follow:
        interval = args.interval or config.settings.watch_interval_seconds or 30
        stall = args.stall_minutes or config.settings.stall_minutes
        return follow(projects, interval, stall, args.json, args.looks)
    return _list(projects, since_s, active_only=args.active, as_json=args.json)


def _list(projects: list[Project], since_s: float, *, active_only: bool, as_json: bool) -> int:
    since_ms = int((time.time() - since_s) * 1000)
    runs: list[RunInfo] = []
    failed: list[tuple[str, str]] = []
    for project in projects:
        try:
            found = reader_for(project).poll(since_ms)
        except (OSError, ValueError, StoreError) as exc:
            failed.append((project.name, str(exc)))
            continue
        runs.extend(r for r in found if r.active or not active_only)
    runs.sort(key=lambda r: (not r.active, -(r.end_time or r.start_time)))
    if as_json:
        unreachable = [{"project": n, "error": e} for n, e in failed]
        doc = {"runs": [r.to_json() for r in runs], "unreachable": unreachable}
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for r in runs:
            print(_line(r))
        if not runs:
            err("No runs " + ("running." if active_only else "running or ended lately."))
        for name, why in failed:
            err(f"{name}: store unreachable: {why}")
    return EXIT_FAIL if failed else EXIT_OK


def _line(r: RunInfo) -> str:
    last = r.last_metric
    metric = f"{last.key} {ev.number(last.value)} @{last.step}" if last else "-"
    took = ev.duration(r)
    return "  ".join(
        [r.project, r.experiment, r.name or r.run_id[:8], r.status, took, metric, r.run_id]
    )
