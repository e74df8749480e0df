"""The spare's pipe and its import, in-process with fakes: on Windows the pipe is read only
after MLflow is imported (a read pending on it hung the import under Wine)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from launcher.server.child import spare as child_spare


class _FakePipe:
    def __init__(self, events: list[str]) -> None:
        events.append("pipe")

    def settings(self) -> str:
        return ""

    def watch(self, on_close: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("during", "order"), [(True, ["pipe", "import"]), (False, ["import", "pipe"])]
)
def test_the_pipe_is_read_before_or_after_the_import(
    monkeypatch: pytest.MonkeyPatch, during: bool, order: list[str]
) -> None:
    events: list[str] = []
    monkeypatch.setattr(child_spare, "_PIPE_DURING_IMPORT", during)
    monkeypatch.setattr(child_spare, "_Pipe", lambda: _FakePipe(events))
    monkeypatch.setattr(child_spare, "_import_server", lambda: events.append("import"))
    monkeypatch.setattr(child_spare, "_leave", lambda code: code)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        code = child_spare.spare(
            "127.0.0.1", lambda *a, **k: 0, lambda host, port: sock, lambda kind, msg: None
        )
    finally:
        sock.close()
    assert code == child_spare.EXIT_NO_SETTINGS  # the fake pipe gives no settings
    assert events == order


def test_windows_reads_the_pipe_after_the_import() -> None:
    assert (child_spare.os.name != "nt") == child_spare._PIPE_DURING_IMPORT
