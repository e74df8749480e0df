"""One tray per user: a second start hands its request to the first and exits.

The first instance listens on a local socket (a named pipe on Windows) whose name is derived from
the user and the launcher's config folder, so two users, or two tests with their own
``MLFLOW_LAUNCHER_HOME``, never meet. A lock file held for the tray's lifetime settles the race
of two starts at the same moment and tells a stale socket (left by a crash) from a live one.

Messages are one JSON object per line, answered by ``ok``: ``{"command": "open", "name": ...}``
``{"command": "activate"}`` or ``{"command": "quit"}`` (``mlflow-launcher quit``: stop every
server and exit, what the Windows installer asks before it replaces the program files).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import os
import re
import sys
import time
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from launcher.model.paths import AppPaths

log = logging.getLogger(__name__)

CONNECT_MS = 1500
REPLY_MS = 5000


def instance_name(paths: AppPaths) -> str:
    """The socket name for this user and this config folder (short: Unix sockets allow ~100)."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    safe_user = re.sub(r"[^A-Za-z0-9_.-]", "_", user)[:32] or "user"
    digest = hashlib.sha1(str(paths.config_dir.absolute()).encode("utf-8")).hexdigest()[:12]
    return f"mlflow-launcher-{safe_user}-{digest}"


def hand_over(name: str, message: dict[str, Any], timeout_ms: int = CONNECT_MS) -> bool:
    """Send ``message`` to a running instance; True once it was delivered. Needs no QApplication."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    try:
        socket.write(json.dumps(message).encode("utf-8") + b"\n")
        while socket.bytesToWrite() > 0:
            if not socket.waitForBytesWritten(REPLY_MS):
                return False
        reply = b""
        deadline = time.monotonic() + REPLY_MS / 1000
        while b"\n" not in reply and time.monotonic() < deadline:
            socket.waitForReadyRead(200)
            reply += bytes(socket.readAll().data())
            if socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
                break
        # Written but not answered: the first instance is busy. Sending again could open the
        # project twice, so the message counts as delivered.
        if reply.strip() != b"ok":
            log.warning("the running launcher did not confirm %s", message)
        return True
    finally:
        socket.disconnectFromServer()


class InstanceLock:
    """Held by the running tray for its lifetime; the OS releases it if the tray dies.

    A plain OS lock (``flock``/``msvcrt.locking``) on a file in the config folder: imported
    before the icon shows, so it avoids the heavier filelock package.
    """

    def __init__(self, paths: AppPaths) -> None:
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        self.path = paths.config_dir / "tray.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                _unlock(self._fd)
            os.close(self._fd)
            self._fd = None


if sys.platform == "win32":  # pragma: no cover - Windows only

    def _lock(fd: int) -> None:
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:

    def _lock(fd: int) -> None:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class InstanceServer(QObject):
    """Listens for second starts and emits what they asked for."""

    received = Signal(dict)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Listen, removing a stale socket first: call only while holding the InstanceLock."""
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        if self.server.listen(self.name):
            return True
        log.error("cannot listen on %s: %s", self.name, self.server.errorString())
        return False

    def close(self) -> None:
        self.server.close()

    @Slot()
    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(self._read)
            socket.disconnected.connect(socket.deleteLater)

    @Slot()
    def _read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket) or not socket.canReadLine():
            return  # the rest of the line comes with the next readyRead
        line = bytes(socket.readLine().data()).strip()
        try:
            message = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            message = None
        if not isinstance(message, dict):
            socket.write(b"error\n")
            socket.flush()
            return
        socket.write(b"ok\n")
        socket.flush()
        log.info("second start asked for %s", message)
        from launcher.server.signals import emit  # not before the icon shows: see app.start_tray

        emit(self.received, message)
