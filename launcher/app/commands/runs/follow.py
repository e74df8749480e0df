"""``runs --follow``: every watched project looked at each interval, its events printed as they
happen (one line each, or JSON lines), until Ctrl-C. The first look only records: a run that
ended before the command started is not news."""

from __future__ import annotations

import json
import time
from datetime import datetime

from launcher.app.commands.common import EXIT_OK, err
from launcher.model.project import Project
from launcher.model.runs.events import RunEvent
from launcher.server.runs.watcher import RunWatcher


def follow(projects: list[Project], interval: float, stall: float, as_json: bool,
            looks: int) -> int:  # fmt: skip
    watcher = RunWatcher(stall_minutes=stall)
    err(f"Watching {len(projects)} project(s) every {interval:g} s; Ctrl-C stops.")
    done = 0
    try:
        while True:
            look = watcher.look(projects)
            for name, why in look.unreachable:
                err(f"{name}: store unreachable: {why}")
            for name in look.back:
                err(f"{name}: store answers again")
            for event in look.events:
                print(_event_line(event, as_json), flush=True)
            done += 1
            if looks and done >= looks:
                return EXIT_OK
            time.sleep(interval)
    except KeyboardInterrupt:
        return EXIT_OK


def _event_line(event: RunEvent, as_json: bool) -> str:
    if as_json:
        return json.dumps(event.to_json(), ensure_ascii=False)
    stamp = datetime.now().strftime("%H:%M:%S")
    return f"{stamp}  {event.kind}  {event.title}: {event.text}"
