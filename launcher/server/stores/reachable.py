"""Does a path exist, asked so that an offline share cannot hang the caller.

``os.path.exists`` on a UNC path whose server is gone blocks for a minute or more (SMB's own
timeouts). The pre-flight, the store watch and the project editor all ask through here.
"""

from __future__ import annotations

import os
import threading

EXISTS_TIMEOUT = 15.0


def path_exists(path: str, timeout: float = EXISTS_TIMEOUT) -> bool | None:
    """``os.path.exists`` that gives up (None) instead of hanging on an offline share."""
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(os.path.exists(path)), daemon=True)
    worker.start()
    worker.join(timeout)
    return result[0] if result else None
