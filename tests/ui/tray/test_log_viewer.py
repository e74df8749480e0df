"""The log viewer follows a growing, rotating log and copies it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from launcher.ui.tray import log_viewer
from launcher.ui.tray.log_viewer import LogViewer

pytestmark = pytest.mark.gui


def lines(viewer: LogViewer) -> list[str]:
    return viewer.text.toPlainText().splitlines()


def test_it_waits_for_a_log_that_does_not_exist_yet(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "servers" / "a.log"
    viewer = LogViewer(path, poll_ms=50)
    qtbot.addWidget(viewer)
    viewer.show()
    assert "No log yet" in viewer.text.toPlainText()
    path.parent.mkdir()
    path.write_text("first\n", encoding="utf-8")
    qtbot.waitUntil(lambda: lines(viewer) == ["first"], timeout=3000)


def test_it_follows_appended_lines_and_only_whole_ones(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("one\ntwo\n", encoding="utf-8")
    viewer = LogViewer(path, poll_ms=50)
    qtbot.addWidget(viewer)
    viewer.show()
    assert lines(viewer) == ["one", "two"]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("three\nfou")
        fh.flush()
        qtbot.waitUntil(lambda: lines(viewer) == ["one", "two", "three"], timeout=3000)
        fh.write("r ünïcode\n")
    qtbot.waitUntil(lambda: lines(viewer)[-1] == "four ünïcode", timeout=3000)


def test_it_starts_over_when_the_log_rotates(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("old 1\nold 2\n", encoding="utf-8")
    viewer = LogViewer(path, poll_ms=50)
    qtbot.addWidget(viewer)
    viewer.show()
    os.replace(path, tmp_path / "a.log.1")
    path.write_text("new 1\n", encoding="utf-8")
    qtbot.waitUntil(lambda: lines(viewer)[-1:] == ["new 1"], timeout=3000)
    assert "--- the log was rotated ---" in lines(viewer)


def test_a_big_log_opens_at_its_tail(qtbot, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(log_viewer, "TAIL_BYTES", 100)
    path = tmp_path / "a.log"
    path.write_text("".join(f"line {i:04d}\n" for i in range(100)), encoding="utf-8")
    viewer = LogViewer(path)
    qtbot.addWidget(viewer)
    shown = lines(viewer)
    assert shown[-1] == "line 0099"
    assert 5 <= len(shown) <= 10 and all(s.startswith("line ") and len(s) == 9 for s in shown)


def test_copy_puts_the_log_on_the_clipboard(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("alpha\nbeta\n", encoding="utf-8")
    viewer = LogViewer(path)
    qtbot.addWidget(viewer)
    viewer.copy()
    assert QGuiApplication.clipboard().text() == "alpha\nbeta"


def test_the_collector_keeps_gc_in_the_gui_thread(qtbot) -> None:
    import gc

    from launcher.ui.common.collector import MainThreadCollector

    gc.enable()
    collector = MainThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        garbage = []
        for _ in range(collector.threshold[0] + 10):
            cycle: list[object] = []
            cycle.append(cycle)
            garbage.append(cycle)
        del garbage, cycle
        qtbot.waitUntil(lambda: gc.get_count()[0] < collector.threshold[0], timeout=2000)
    finally:
        collector.stop()
    assert gc.isenabled()
