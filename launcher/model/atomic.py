"""Writing a file whole or not at all: the config, catalog copies, the launcher's key files.

A temp file beside the target, then ``os.replace``: a reader (another launcher, a second
``serve``) sees the old file or the new one, never half of one, and a crash leaves the old file.
On Windows a reader holding the file open makes the replace fail for a moment: it is retried.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

REPLACE_ATTEMPTS = 20


def write_text(path: Path, text: str, *, private: bool = False, durable: bool = False) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends) in one step.

    ``private``: readable by its owner only (0600 in a 0700 folder; on Windows the launcher's
    folders are in the user's profile already); otherwise 0644, as for any file a user shares.
    ``durable``: flushed to the disk before it replaces the old file (the config).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if private and sys.platform != "win32":
        with contextlib.suppress(OSError):
            os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if not private and sys.platform != "win32":
            os.fchmod(fd, 0o644)  # mkstemp makes 0600: a shared export must stay readable
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        replace(Path(tmp), path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def replace(src: Path, dst: Path) -> None:
    """``os.replace``, retried: on Windows a reader holding the file open makes it fail briefly."""
    for attempt in range(REPLACE_ATTEMPTS):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if attempt == REPLACE_ATTEMPTS - 1:
                raise
            time.sleep(0.05)
