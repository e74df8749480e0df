"""The run watcher's rules, without a store: what is news, said once, and a burst summed up."""

from __future__ import annotations

import pytest

from launcher.model.runs import events as ev
from launcher.model.runs.events import Metric, ProjectState, RunInfo, WatchState, detect
from launcher.model.runs.watched import watched

MIN = 60_000
T0 = 1_700_000_000_000


def run(run_id: str, status: str = ev.RUNNING, *, end: int | None = None, at: int = T0) -> RunInfo:
    metrics = (Metric("loss", 0.25, 7, at),)
    return RunInfo("p", "1", "exp", run_id, f"run-{run_id}", status, T0, end, metrics)


def test_the_first_look_only_records_then_an_end_is_news_once() -> None:
    state = ProjectState()
    assert detect(state, [run("a"), run("old", ev.FINISHED, end=T0)], now_ms=T0 + MIN,
                  stall_ms=15 * MIN) == []  # fmt: skip
    ended = [run("a", ev.FAILED, end=T0 + 2 * MIN), run("old", ev.FINISHED, end=T0)]
    events = detect(state, ended, now_ms=T0 + 3 * MIN, stall_ms=15 * MIN)
    assert [(e.kind, e.run.run_id) for e in events] == [(ev.FAILED, "a")]
    assert detect(state, ended, now_ms=T0 + 4 * MIN, stall_ms=15 * MIN) == []


def test_a_run_that_started_and_ended_between_two_looks_is_news() -> None:
    state = ProjectState()
    detect(state, [], now_ms=T0, stall_ms=15 * MIN)
    events = detect(state, [run("b", ev.FINISHED, end=T0 + MIN)], now_ms=T0 + 2 * MIN,
                    stall_ms=15 * MIN)  # fmt: skip
    assert [e.kind for e in events] == [ev.FINISHED]
    assert events[0].text == "exp: loss 0.25"


def test_stalled_once_per_silence_and_again_after_new_activity() -> None:
    state = ProjectState()
    detect(state, [run("c")], now_ms=T0 + MIN, stall_ms=15 * MIN)
    events = detect(state, [run("c")], now_ms=T0 + 16 * MIN, stall_ms=15 * MIN)
    assert [e.kind for e in events] == [ev.STALLED]
    assert "seems stalled: last metric at" in events[0].text
    assert detect(state, [run("c")], now_ms=T0 + 30 * MIN, stall_ms=15 * MIN) == []
    later = run("c", at=T0 + 31 * MIN)
    assert detect(state, [later], now_ms=T0 + 32 * MIN, stall_ms=15 * MIN) == []
    assert len(detect(state, [later], now_ms=T0 + 47 * MIN, stall_ms=15 * MIN)) == 1


def test_state_survives_a_restart_and_bad_text_starts_afresh() -> None:
    state = WatchState()
    detect(state.projects.setdefault("p", ProjectState()), [run("a")], now_ms=T0, stall_ms=MIN)
    state.first_seen["p"] = 5.0
    again = WatchState.from_text(state.to_text())
    assert again == state
    assert WatchState.from_text("{not json") == WatchState()


def test_a_burst_becomes_one_summary() -> None:
    events = [ev.RunEvent(ev.FINISHED, run(str(i), ev.FINISHED)) for i in range(19)]
    events.append(ev.RunEvent(ev.FAILED, run("x", ev.FAILED)))
    (title, text, event), = ev.notices(events)  # fmt: skip
    assert event is None
    assert title == "20 runs: 19 finished, 1 failed" and text == "p 20"
    assert len(ev.notices(events[:3])) == 3


def test_watched_by_choice_else_when_recent() -> None:
    now = 100 * 86400.0
    assert watched(False, opened_at=now, first_seen=now, now=now) is False
    assert watched(True, opened_at=None, first_seen=None, now=now) is True
    assert watched(None, opened_at=now - 13 * 86400, first_seen=None, now=now) is True
    assert watched(None, opened_at=now - 15 * 86400, first_seen=0.0, now=now) is False
    assert watched(None, opened_at=None, first_seen=now - 86400, now=now) is True


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("15m", 900), ("1h", 3600),
                                               ("2d", 172800), ("1.5h", 5400)])  # fmt: skip
def test_since(text: str, seconds: float) -> None:
    assert ev.parse_since(text) == seconds


def test_since_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        ev.parse_since("yesterday")
