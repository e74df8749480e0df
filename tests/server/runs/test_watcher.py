"""The watcher's own rules: a store on a share is asked first with a timeout, one notice for a
store that went away, and a project whose store changed starts afresh."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from launcher.model.project import Project
from launcher.server.runs import watcher as watcher_module
from launcher.server.runs.watcher import RunWatcher
from tests.server.runs.test_folder_reads import make_store, write_run


def test_a_share_that_does_not_answer_is_unreachable_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mlruns"
    make_store(root)
    write_run(root / "1", "live", 1)
    monkeypatch.setattr("launcher.server.stores.shares.network_share", lambda _p: "a share")
    answers: list[bool | None] = [True, None, None, True]
    monkeypatch.setattr(watcher_module, "path_exists", lambda _p, _t: answers.pop(0))
    watcher = RunWatcher()
    project = Project("dra", str(root), prefix="dra_")
    assert [r.run_id for r in watcher.look([project]).active] == ["live"]
    down = watcher.look([project])
    assert [name for name, _why in down.unreachable] == ["dra"]
    assert "does not answer" in down.unreachable[0][1]
    assert watcher.look([project]).unreachable == []  # said once
    back = watcher.look([project])
    assert back.back == ["dra"] and [r.run_id for r in back.active] == ["live"]


def test_another_store_starts_afresh(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    make_store(first)
    make_store(second)
    write_run(second / "1", "ended-there", 3, end=int(time.time() * 1000) - 1000)
    watcher = RunWatcher()
    watcher.look([Project("dra", str(first))])
    assert watcher.state.projects["dra"].seen_at > 0
    assert watcher.look([Project("dra", str(second))]).events == []  # not news: a first look
    watcher.look([])
    assert watcher.state.projects == {}  # unwatched: forgotten, so watching again records first
