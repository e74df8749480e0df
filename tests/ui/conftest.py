"""Qt tests run offscreen: no window ever appears, and no display is needed."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest

from launcher.ui import project_editor


@pytest.fixture(autouse=True)
def _no_interpreter_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend discovery already ran: probing every Python on the machine is for one test only."""
    monkeypatch.setattr(project_editor, "_interpreters", [])
