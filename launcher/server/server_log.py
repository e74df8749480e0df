"""A server's log: every line it writes, and the launcher's own ``===`` lines, kept twice.

On disk in a rotating file (what "Show log" follows, kept across restarts), and the last 200
lines in memory, where a failure's cause is read from without touching the file.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import logging.handlers
from datetime import datetime
from pathlib import Path

LOG_BYTES = 2_000_000
LOG_BACKUPS = 3
TAIL_LINES = 200


class ServerLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._logger: logging.Logger | None = None

    def tail(self, lines: int = 30) -> list[str]:
        return list(self._tail)[-lines:]

    def note(self, text: str) -> None:
        """A line of the launcher's own, stamped."""
        self.open()
        self.record(f"{datetime.now():%Y-%m-%d %H:%M:%S} {text}")

    def record(self, line: str) -> None:
        """A line the server wrote, as it wrote it."""
        self._tail.append(line)
        if self._logger is not None:
            self._logger.info(line)

    def open(self) -> None:
        if self._logger is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One logger (and one open file) per log path, shared by every server of that project
        # in this process: a second handle would break rotation on Windows.
        key = hashlib.sha1(str(self.path.absolute()).encode("utf-8")).hexdigest()[:12]
        logger = logging.getLogger(f"launcher.serverlog.{key}")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        if not logger.handlers:
            handler = logging.handlers.RotatingFileHandler(
                self.path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
        self._logger = logger
