"""Opening the browser from several threads at once, as three projects served together do."""

from __future__ import annotations

import threading
import time
import webbrowser
from concurrent.futures import ThreadPoolExecutor

import pytest

from launcher.server import browser


class Recording(webbrowser.BaseBrowser):
    def __init__(self) -> None:
        super().__init__("recording")
        self.urls: list[str] = []
        self.lock = threading.Lock()

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        with self.lock:
            self.urls.append(url)
        return True


def test_concurrent_first_opens_all_reach_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python registers its browsers on first use, leaving an empty list visible meanwhile: the
    launcher's first use is serialized, so no open is lost."""
    recording = Recording()

    def slow_register() -> None:  # what webbrowser does, with the window made wide
        webbrowser._tryorder = []  # type: ignore[attr-defined]
        time.sleep(0.3)
        webbrowser.register("recording", None, recording, preferred=True)

    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setattr(webbrowser, "register_standard_browsers", slow_register)
    monkeypatch.setattr(browser, "_registered", False)
    urls = [f"http://127.0.0.1:{5000 + i}/" for i in range(3)]
    with ThreadPoolExecutor(len(urls)) as pool:
        opened = list(pool.map(browser.open_in_browser, urls))
    assert opened == [True, True, True]
    assert sorted(recording.urls) == urls
