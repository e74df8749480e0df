"""The launcher's pipe on a child's standard input: its lines, and its end as the lifeline.

Every server process reads it: the launcher holds the other end, so its closing (a quit, or a
launcher killed hard) is the moment to stop, and a host also gets its mount and unmount
requests there, one JSON object a line. One reader for every child, safe on Windows.

Standard library only, like every module of this package.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO

from . import protocol


def own_stdin() -> BinaryIO:
    """The launcher's pipe, for this module's reader alone.

    Windows: on a synchronous pipe every call waits while another is pending, so with our
    thread blocked reading it, anything else asking about standard input (an import checking
    for a console did, and so does serving) waits for good: under Wine a warm server never got
    warm. There the pipe moves to a private descriptor and descriptor 0 (``sys.stdin``,
    ``STD_INPUT_HANDLE``, what children inherit) becomes an idle pipe of its own, never
    written, never closed. POSIX has no such lock: standard input as it is.
    """
    if sys.platform != "win32":
        return sys.stdin.buffer
    import ctypes
    import msvcrt
    from ctypes import wintypes

    private = os.dup(0)
    idle_read, _idle_write = os.pipe()  # the write end stays open: a read would wait, not end
    os.dup2(idle_read, 0)
    os.close(idle_read)
    kernel32 = ctypes.WinDLL("kernel32")
    kernel32.SetStdHandle.argtypes = [wintypes.DWORD, wintypes.HANDLE]
    kernel32.SetStdHandle(wintypes.DWORD(-10 & 0xFFFFFFFF), msvcrt.get_osfhandle(0))
    return os.fdopen(private, "rb")


def follow(on_close: Callable[[], None], on_line: Callable[[bytes], None] | None = None) -> None:
    """Read the pipe in a thread: each line to ``on_line`` (if given), then ``on_close``."""
    stream = own_stdin()

    def run() -> None:
        try:
            for line in iter(stream.readline, b""):
                if on_line is not None:
                    on_line(line)
        except Exception:
            pass
        on_close()

    threading.Thread(target=run, name="launcher-pipe", daemon=True).start()


class Commit:
    """A move's go-ahead to commit, asked for on standard output and given on the pipe.

    Without it a cancel (the launcher killing the child) could land in the milliseconds after
    the commit, and the launcher would say "nothing was written" of a database holding the copy.
    Now the launcher answers :data:`protocol.COMMIT_GO` only if the user has not cancelled, and
    refuses a cancel once it has: a cancel either comes before the commit or not at all.
    """

    def __init__(self) -> None:
        self._go = threading.Event()

    def on_line(self, line: bytes) -> None:
        if line.strip() == protocol.COMMIT_GO.encode():
            self._go.set()

    def ask(self) -> None:
        """Ask, then wait: the pipe closing instead (a cancel) exits the process."""
        print(protocol.COMMIT_MARK, flush=True)
        self._go.wait()
