"""What happened to a project's runs between two looks at its store: ended, failed, stalled.

MLflow sends no event when a run ends (its webhooks cover the registry only), so the launcher
compares what a store holds now with what it saw last time. Everything here is pure: the
readers (``launcher.server.runs``) turn a store into :class:`RunInfo` values, :func:`detect`
turns two looks into :class:`RunEvent` values, and :class:`WatchState` is what is kept across
restarts (in the data folder), so an event already shown is never shown again.

A trainer killed hard (SIGKILL, a crashed node) leaves its run RUNNING forever: MLflow has no
heartbeat. So a RUNNING run with nothing logged for the stall window is an event of its own.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

RUNNING = "RUNNING"
SCHEDULED = "SCHEDULED"
FINISHED = "FINISHED"
FAILED = "FAILED"
KILLED = "KILLED"
ACTIVE = frozenset({RUNNING, SCHEDULED})
ENDED = frozenset({FINISHED, FAILED, KILLED})

FOLDER_STATUS = {1: RUNNING, 2: SCHEDULED, 3: FINISHED, 4: FAILED, 5: KILLED}
"""``status:`` in a folder store's run ``meta.yaml`` (MLflow's RunStatus numbers)."""

STALLED = "STALLED"
"""The event of a RUNNING run with nothing logged for the stall window (not an MLflow status)."""

DEFAULT_STALL_MINUTES = 15
DEFAULT_INTERVAL_SECONDS = 30
BURST = 4
"""This many events from one look (a sweep ending) become one summary notification."""
REPORTED_KEPT = 2000
"""How many ended runs' ids are kept as "already shown" per project (the newest)."""
SKEW_MS = 5 * 60 * 1000
"""Clocks of the machines that log and the one that watches differ: a run whose end time is
this much before the last look still counts as new, and the reported ids stop a repeat."""
MAX_METRICS = 3


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int
    timestamp: int
    """Milliseconds since the epoch, as MLflow logs it."""


@dataclass(frozen=True)
class RunInfo:
    """One run as a store holds it now, with what the watcher needs and nothing more."""

    project: str
    experiment_id: str
    experiment: str
    run_id: str
    name: str
    status: str
    start_time: int
    end_time: int | None = None
    metrics: tuple[Metric, ...] = ()
    """Last values of the run's metrics, most recently logged first."""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def last_metric(self) -> Metric | None:
        return self.metrics[0] if self.metrics else None

    @property
    def last_activity(self) -> int:
        """When the run last logged a metric, else when it started (ms)."""
        latest = max((m.timestamp for m in self.metrics), default=0)
        return max(latest, self.start_time or 0)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = [asdict(m) for m in self.metrics]
        return data


@dataclass(frozen=True)
class RunEvent:
    kind: str
    """FINISHED, FAILED, KILLED or STALLED."""
    run: RunInfo

    @property
    def title(self) -> str:
        return f"{self.run.project}: {self.run.name or self.run.run_id[:8]} {_VERB[self.kind]}"

    @property
    def text(self) -> str:
        where = f"{self.run.experiment}"
        if self.kind == STALLED:
            last = self.run.last_metric
            if last is None:
                since = clock(self.run.start_time)
                return f"{where}: seems stalled: nothing logged since it started at {since}"
            return f"{where}: seems stalled: last metric at {clock(last.timestamp)}"
        if self.kind == FINISHED and self.run.metrics:
            shown = ", ".join(f"{m.key} {number(m.value)}" for m in self.run.metrics[:MAX_METRICS])
            return f"{where}: {shown}"
        return f"{where}: after {duration(self.run)}"

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, **self.run.to_json()}


_VERB = {FINISHED: "finished", FAILED: "failed", KILLED: "was killed", STALLED: "seems stalled"}


@dataclass
class ProjectState:
    """What was seen of one project's runs at the last look."""

    seen_at: int = 0
    """When the store was last read (ms); 0: never, so the first look reports nothing."""
    active: dict[str, int] = field(default_factory=dict)
    """Run id -> its last activity (ms), for every run seen active."""
    stalled: dict[str, int] = field(default_factory=dict)
    """Run id -> the activity its "stalled" event was about (not repeated for the same one)."""
    reported: list[str] = field(default_factory=list)
    """Ended runs already reported, oldest first (bounded by :data:`REPORTED_KEPT`)."""


@dataclass
class WatchState:
    """Every watched project's :class:`ProjectState`, as kept in the data folder."""

    projects: dict[str, ProjectState] = field(default_factory=dict)
    first_seen: dict[str, float] = field(default_factory=dict)
    """Project name -> when the watcher first saw it configured (time.time()); a project added
    since it counts as new for the default of its "Watch runs" option."""

    def to_text(self, *, times: bool = True) -> str:
        """The file's text; without ``times`` (when each project was last read), what tells
        whether a write is needed: a look that changed nothing else is not worth one."""
        projects = {name: asdict(p) for name, p in self.projects.items()}
        if not times:
            for data in projects.values():
                del data["seen_at"]
        data = {"schema": 1, "projects": projects, "first_seen": self.first_seen}
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_text(cls, text: str) -> WatchState:
        """The state kept on disk; anything unreadable starts afresh (no replays either way:
        a fresh project state reports nothing at its first look)."""
        try:
            data = json.loads(text)
            projects = {
                str(name): ProjectState(
                    seen_at=int(raw.get("seen_at", 0)),
                    active={str(k): int(v) for k, v in raw.get("active", {}).items()},
                    stalled={str(k): int(v) for k, v in raw.get("stalled", {}).items()},
                    reported=[str(r) for r in raw.get("reported", [])],
                )
                for name, raw in data.get("projects", {}).items()
            }
            first = {str(k): float(v) for k, v in data.get("first_seen", {}).items()}
        except (ValueError, TypeError, AttributeError):
            return cls()
        return cls(projects, first)


def detect(
    state: ProjectState, runs: Iterable[RunInfo], *, now_ms: int, stall_ms: int
) -> list[RunEvent]:
    """The events between ``state`` and ``runs`` (what the store holds now); updates ``state``.

    ``runs`` holds at least every active run and every run that ended since the last look.
    The first look (``seen_at == 0``) only records: what ended before the launcher watched is
    not news.
    """
    first = state.seen_at == 0
    since = state.seen_at - SKEW_MS
    reported = set(state.reported)
    events: list[RunEvent] = []
    active: dict[str, int] = {}
    for run in runs:
        if run.active:
            active[run.run_id] = run.last_activity
            quiet = now_ms - run.last_activity >= stall_ms
            new = state.stalled.get(run.run_id) != run.last_activity
            if run.status == RUNNING and quiet and new and not first:
                state.stalled[run.run_id] = run.last_activity
                events.append(RunEvent(STALLED, run))
            continue
        if run.status not in ENDED or run.run_id in reported:
            continue
        was_active = run.run_id in state.active
        ended_lately = (run.end_time or 0) >= since
        if first:  # recorded, so the next look does not take it for news
            if (run.end_time or 0) >= now_ms - SKEW_MS:
                reported.add(run.run_id)
                state.reported.append(run.run_id)
            continue
        if was_active or ended_lately:
            events.append(RunEvent(run.status, run))
            reported.add(run.run_id)
            state.reported.append(run.run_id)
    state.active = active
    state.stalled = {k: v for k, v in state.stalled.items() if k in active}
    del state.reported[:-REPORTED_KEPT]
    state.seen_at = now_ms
    return events


def summary(events: list[RunEvent]) -> tuple[str, str]:
    """One notification for a burst (a sweep ending 20 runs): counts per kind and project."""
    kinds = Counter(e.kind for e in events)
    projects = Counter(e.run.project for e in events)
    title = f"{len(events)} runs: " + ", ".join(
        f"{n} {_VERB[k].replace('was ', '')}" for k, n in kinds.most_common()
    )
    text = ", ".join(f"{p} {n}" for p, n in projects.most_common())
    return title, text


def notices(events: list[RunEvent]) -> list[tuple[str, str, RunEvent | None]]:
    """What to show for one look's events: one each, or one summary for a burst."""
    if len(events) >= BURST:
        title, text = summary(events)
        return [(title, text, None)]
    return [(e.title, e.text, e) for e in events]


# -- words -------------------------------------------------------------------------------------


def clock(ms: int) -> str:
    """A local time of day (with the date when it is not today)."""
    moment = datetime.fromtimestamp(ms / 1000)
    if moment.date() == datetime.now().date():
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def duration(run: RunInfo, now_ms: int | None = None) -> str:
    """How long a run ran (or has been running)."""
    end = run.end_time or now_ms or int(time.time() * 1000)
    return elapsed((end - run.start_time) / 1000)


def number(value: float) -> str:
    return f"{value:.4g}"


_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str) -> float:
    """``90s``, ``15m``, ``1h``, ``2d``, ``1w`` (a bare number is seconds) in seconds."""
    match = _SINCE.match(text.lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30m, 1h or 2d")
    return float(match.group(1)) * _UNIT[match.group(2)]
