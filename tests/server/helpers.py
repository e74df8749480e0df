"""Checks shared by the process tests."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path

import psutil


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def gone(pids: list[int], timeout: float = 10.0) -> bool:
    """True once none of the pids is alive (zombies count as gone: they hold no port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return True
        time.sleep(0.2)
    return False


def tree(pid: int) -> list[int]:
    try:
        proc = psutil.Process(pid)
        return [pid, *(c.pid for c in proc.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def tree_hash(root: Path) -> dict[str, str]:
    """Every file under root with its content hash: 'looking must not write' is checked with it."""
    if root.is_file():
        return {root.name: hashlib.sha256(root.read_bytes()).hexdigest()}
    result = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath, name)
            result[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        for name in _dirs:
            result[str(Path(dirpath, name).relative_to(root)) + "/"] = "dir"
    return result
