"""Killing a server with everything it started, so no worker outlives a stop.

``mlflow server`` runs uvicorn or gunicorn workers as children, and a plain kill of the parent
leaves them serving (MLflow has no stop command). The descendants are listed before the parent
is asked to stop, because once it is gone its children are re-parented and cannot be found.
"""

from __future__ import annotations

import contextlib

import psutil


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def kill(pid: int, seen: list[psutil.Process]) -> None:
    """Kill a process and every descendant, those seen before it was asked to stop included."""
    procs: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        procs.append(psutil.Process(pid))
    procs.extend(seen)
    procs.extend(descendants(pid))
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(procs, timeout=3)
