"""The tray's own part of a click, loaded ahead (launcher/server/warm/click_ready.py)."""

from __future__ import annotations

import webbrowser

import pytest

from launcher.server import browser
from launcher.server.warm import click_ready
from tests.server.test_browser import Recording


def test_click_ready_finds_the_browsers_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tray that keeps a server warm finds the browsers before the first click needs them."""
    calls: list[str] = []

    def register() -> None:  # what webbrowser does: the list first, then the browsers
        calls.append("registered")
        webbrowser._tryorder = []  # type: ignore[attr-defined]
        webbrowser.register("recording", None, Recording(), preferred=True)

    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setattr(webbrowser, "register_standard_browsers", register)
    monkeypatch.setattr(browser, "_registered", False)
    click_ready.prepare()
    assert calls == ["registered"] and browser._registered
    click_ready.prepare()  # once only
    assert calls == ["registered"]
