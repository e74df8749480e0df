"""The temporary file a move writes beside its target, and its removal whatever happens.

A move writes ``.NAME.partial-PID`` in the target's folder (same folder, so the final rename is
atomic) and the target's name appears only once the file is complete and verified. A cancel, a
crash or a failure deletes it; one a killed launcher left behind is deleted by the next move
(its process is gone).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import psutil

PARTIAL_MARK = ".partial-"


def partial_path(target: Path) -> Path:
    """This process's temporary file for ``target``."""
    return target.with_name(f".{target.name}{PARTIAL_MARK}{os.getpid()}")


def remove_partial(temp: Path) -> None:
    """The temporary file and SQLite's companions (journal, WAL)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(temp) + suffix).unlink()


def remove_stale_partials(target: Path) -> None:
    """Temporary files a killed launcher left beside the target (their process is gone)."""
    with contextlib.suppress(OSError):
        for path in target.parent.glob(f".{target.name}{PARTIAL_MARK}*"):
            pid = path.name.rsplit(PARTIAL_MARK, 1)[1].split("-")[0]
            if pid.isdigit() and not psutil.pid_exists(int(pid)):
                remove_partial(path)
