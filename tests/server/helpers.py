"""Checks shared by the process tests."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
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


def start_cli(args: list[str]) -> subprocess.Popen[str]:
    """``python -m launcher ARGS`` from the repository, its output piped, ready for a real
    SIGINT: a shell's background job starts with SIGINT ignored, and Python keeps it so, so the
    CLI gets the default disposition a terminal gives it."""
    return subprocess.Popen(
        [sys.executable, "-m", "launcher", *args],
        cwd=Path(__file__).parents[2],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def interrupt_when(proc: subprocess.Popen[str], ready: Callable[[], bool]) -> str:
    """Ctrl-C ``proc`` once ``ready()`` (polled; at most two minutes); its standard error once
    it ended. The process is killed if anything goes wrong on the way."""
    try:
        deadline = time.monotonic() + 120
        while not ready() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the process ended before it was ready to be interrupted"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        return err
    finally:
        if proc.poll() is None:
            proc.kill()
